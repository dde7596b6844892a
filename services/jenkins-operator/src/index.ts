// The operator as a library, for what runs it in-process (bench/operator); main.ts runs the service.
export { buildParameters, jenkinsJobPath } from './build-parameters.js';
export { JENKINS_MASTER, JenkinsMasters, type Master } from './jenkins-masters.js';
export { JenkinsOperator, type OperatorDeps } from './operator.js';
