import type { Brancher, ChangeMatcher, Presubmit } from './types.js';

/** Prow's `Brancher.ShouldRun`: `skip_branches` wins; no `branches` means every branch. */
export function runsAgainstBranch(brancher: Brancher, branch: string): boolean {
  if (brancher.skipBranches.some((re) => re.test(branch))) return false;
  return brancher.branches.length === 0 || brancher.branches.some((re) => re.test(branch));
}

/**
 * Prow's `RegexpChangeMatcher.ShouldRun`: whether the changed files decide the question, and the
 * answer when they do.
 */
export function matchChanges(matcher: ChangeMatcher, changes: readonly string[]): { determined: boolean; shouldRun: boolean } {
  if (matcher.runIfChanged) {
    const re = matcher.runIfChanged;
    return { determined: true, shouldRun: changes.some((file) => re.test(file)) };
  }
  if (matcher.skipIfOnlyChanged) {
    const re = matcher.skipIfOnlyChanged;
    return { determined: true, shouldRun: changes.some((file) => !re.test(file)) };
  }
  return { determined: false, shouldRun: false };
}

export function needsChanges(presubmit: Presubmit): boolean {
  return presubmit.runIfChanged !== undefined || presubmit.skipIfOnlyChanged !== undefined;
}

/** Prow's `NeedsExplicitTrigger`: a job that runs only when someone asks for it by name. */
export function needsExplicitTrigger(presubmit: Presubmit): boolean {
  return !presubmit.alwaysRun && !needsChanges(presubmit);
}

/** The pull request's changed files, asked for only when a job's answer depends on them. */
export type ChangedFiles = () => Promise<readonly string[]>;

/**
 * Prow's `Presubmit.ShouldRun(baseRef, changes, forced, defaults)`: a job that cannot run on the
 * branch never runs; `always_run` and forced jobs do; otherwise it runs when its file filters
 * select it, or when `defaults` says so whatever the files (`/retest` of a failed job). The files
 * are fetched only when they can change the answer: Prow's deferred ChangedFilesProvider, which
 * costs one API call per hundred files.
 */
export async function shouldRunPresubmit(
  presubmit: Presubmit,
  branch: string,
  changes: ChangedFiles,
  forced: boolean,
  defaults: boolean,
): Promise<boolean> {
  if (!runsAgainstBranch(presubmit, branch)) return false;
  if (presubmit.alwaysRun || forced || defaults) return true;
  return needsChanges(presubmit) && matchChanges(presubmit, await changes()).shouldRun;
}

/** Prow's default trigger and rerun command for a job that sets neither. */
export function defaultTrigger(name: string): string {
  return `(?m)^/test( | .* )${name},?($|\\s.*)`;
}

export function defaultRerunCommand(name: string): string {
  return `/test ${name}`;
}

/**
 * Prow's `Brancher.Intersects`: whether two jobs can run against a common branch. Listed branches
 * are compared as written; a job with only `skip_branches` is tested against the other's list.
 */
export function brancherIntersects(a: Brancher, b: Brancher): boolean {
  const all = (x: Brancher) => x.branchPatterns.length === 0 && x.skipBranchPatterns.length === 0;
  if (all(a) || all(b)) return true;
  if (a.branchPatterns.length > 0) {
    if (b.branchPatterns.length > 0) return a.branchPatterns.some((branch) => b.branchPatterns.includes(branch));
    return a.branchPatterns.some((branch) => runsAgainstBranch(b, branch));
  }
  // Only skip_branches on `a`: two such jobs are taken to meet somewhere.
  if (b.branchPatterns.length === 0) return true;
  return brancherIntersects(b, a);
}
