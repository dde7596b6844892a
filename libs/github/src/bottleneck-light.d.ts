// plugin-retry and plugin-throttling import Bottleneck's light build, which ships no types of its
// own: it is the same class as the full build without the Redis datastores.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
