import { compileGoRegexp, shouldRunPresubmit, type ChangedFiles, type Presubmit } from '@bowline/config';

/**
 * Prow's presubmit filters (pkg/pjutil/filter.go): each says whether a job is asked for, whether
 * it is forced to run regardless of its file filters, and what to do when the files do not decide.
 */
export type Filter = (presubmit: Presubmit) => { shouldRun: boolean; forced: boolean; defaults: boolean };

// Prow's command regexes (pkg/pjutil), in Go syntax and translated like every config regex.
export const TEST_ALL = compileGoRegexp('(?m)^/test all,?($|\\s.*)');
export const RETEST = compileGoRegexp('(?m)^/retest\\s*$');
export const OK_TO_TEST = compileGoRegexp('(?m)^/ok-to-test\\s*$');
export const RETEST_REQUIRED = compileGoRegexp('(?m)^/retest-required\\s*$');
/** `/test ?` asks what can be run; `/test` alone, or `/test X` matching no job, gets the same answer. */
export const TEST_HELP = compileGoRegexp('(?m)^/test[ \\t]*\\?\\s*$');
export const TEST_WITHOUT_TARGET = compileGoRegexp('(?m)^/test\\s*$');
export const TEST_WITH_ANY_TARGET = compileGoRegexp('(?m)^/test[ \\t]+\\S+');

/** `/test NAME`: the job's own trigger decides, and a named job runs whatever files changed. */
export function commandFilter(body: string): Filter {
  return (p) => {
    const asked = p.trigger.test(body);
    return { shouldRun: asked, forced: asked, defaults: true };
  };
}

/** `/test all` (and a trusted `/ok-to-test`): the jobs that would run by themselves. */
export const testAllFilter: Filter = () => ({ shouldRun: true, forced: false, defaults: false });

/** `/retest`: failed contexts, plus required jobs that never reported. */
export function retestFilter(failedContexts: ReadonlySet<string>, allContexts: ReadonlySet<string>): Filter {
  return (p) => ({
    shouldRun: failedContexts.has(p.context) || (!p.optional && !allContexts.has(p.context)),
    forced: false,
    defaults: true,
  });
}

/** `/retest-required`: like `/retest`, for jobs that are not `optional`. */
export function retestRequiredFilter(failedContexts: ReadonlySet<string>, allContexts: ReadonlySet<string>): Filter {
  return (p) => ({
    shouldRun: !p.optional && (failedContexts.has(p.context) || !allContexts.has(p.context)),
    forced: false,
    defaults: true,
  });
}

/** The first filter that asks for a job decides for it, as Prow's AggregateFilter. */
export function aggregateFilter(filters: Filter[]): Filter {
  return (p) => {
    for (const filter of filters) {
      const verdict = filter(p);
      if (verdict.shouldRun) return verdict;
    }
    return { shouldRun: false, forced: false, defaults: false };
  };
}

/**
 * Prow's FilterPresubmits: the jobs to start for a pull request against `branch`. The changed files
 * are asked for only when a job's answer depends on them (Prow's deferred ChangedFilesProvider):
 * listing them costs one API call per hundred files.
 */
export async function filterPresubmits(
  filter: Filter,
  presubmits: readonly Presubmit[],
  branch: string,
  changes: ChangedFiles,
): Promise<Presubmit[]> {
  const selected: Presubmit[] = [];
  for (const presubmit of presubmits) {
    const { shouldRun, forced, defaults } = filter(presubmit);
    if (shouldRun && (await shouldRunPresubmit(presubmit, branch, changes, forced, defaults))) selected.push(presubmit);
  }
  return selected;
}

/**
 * Commands are read as Prow reads them, except that text in fenced code blocks and quoted lines is
 * not a command: quoting someone's `/test all` in a review should not start anything. Fences follow
 * CommonMark: backticks or tildes, indented at most three spaces, closed only by a fence of the
 * same character at least as long, or by the end of the comment.
 */
export function commandText(body: string): string {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      const closes = marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker;
      if (closes) fence = undefined;
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      continue;
    }
    if (line.trimStart().startsWith('>')) continue;
    kept.push(line);
  }
  return kept.join('\n');
}
