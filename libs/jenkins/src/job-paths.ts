export function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** `job/a/job/b` → `a/b`, the name people know the job by. */
export function jobName(jobPath: string): string {
  const segments = trimSlashes(jobPath).split('/');
  const names: string[] = [];
  for (let i = 0; i + 1 < segments.length; i += 2) {
    if (segments[i] === 'job') names.push(decodeURIComponent(segments[i + 1]!));
  }
  return names.length > 0 ? names.join('/') : jobPath;
}
