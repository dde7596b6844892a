import { compileGoRegexp, shouldRunPresubmit, type Presubmit } from '@bowline/config';

/**
 * Prow's presubmit filters (pkg/pjutil/filter.go): each says whether a job is asked for, whether
 * it is forced to run regardless of its file filters, and what to do when the files do not decide.
 */
export type Filter = (presubmit: Presubmit) => { shouldRun: boolean; forced: boolean; defaults: boolean };

// Prow's command regexes (pkg/pjutil), in Go syntax and translated like every config regex.
export const TEST_ALL = compileGoRegexp('(?m)^/test all,?($|\\s.*)');
export const RETEST = compileGoRegexp('(?m)^/retest\\s*$');
export const OK_TO_TEST = compileGoRegexp('(?m)^/ok-to-test\\s*$');

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

/** Prow's FilterPresubmits: the jobs to start for a pull request against `branch`. */
export function filterPresubmits(
  filter: Filter,
  presubmits: readonly Presubmit[],
  branch: string,
  changes: readonly string[],
): Presubmit[] {
  return presubmits.filter((p) => {
    const { shouldRun, forced, defaults } = filter(p);
    return shouldRun && shouldRunPresubmit(p, branch, changes, forced, defaults);
  });
}

/**
 * Commands are read as Prow reads them, except that text in code blocks and quoted lines is not a
 * command: quoting someone's `/test all` in a review should not start anything.
 */
export function commandText(body: string): string {
  return body
    .replace(/\r\n/g, '\n')
    .replace(/```[\s\S]*?(```|$)/g, '')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n');
}
