import { needsExplicitTrigger, shouldRunPresubmit, type ChangedFiles, type Presubmit } from '@bowline/config';
import { compileGoRegexp } from '@bowline/go';

/**
 * Prow's presubmit filters (pkg/pjutil/filter.go): each says whether a job is asked for, whether
 * it is forced to run regardless of its file filters, and what to do when the files do not decide.
 */
export type Filter = (presubmit: Presubmit) => { shouldRun: boolean; forced: boolean; defaults: boolean };

// Prow's command regexes (pkg/pjutil filter.go and help.go), in Go syntax and translated like
// every config regex.
export const TEST_ALL = compileGoRegexp('(?m)^/test all,?($|\\s.*)');
export const RETEST = compileGoRegexp('(?m)^/retest\\s*$');
export const RETEST_REQUIRED = compileGoRegexp('(?m)^/retest-required\\s*$');
export const TEST_MANUAL_REQUIRED = compileGoRegexp('(?m)^/test-manual-required\\s*$');
export const OK_TO_TEST = compileGoRegexp('(?m)^/ok-to-test\\s*$');
export const OK_TO_TEST_CANCEL = compileGoRegexp('(?m)^/ok-to-test\\s+cancel\\s*$');
export const TEST_HELP = compileGoRegexp('(?m)^/test[ \\t]*\\?\\s*$');
export const EMPTY_TEST = compileGoRegexp('(?m)^/test\\s*$');
export const RETEST_WITH_TARGET = compileGoRegexp('(?m)^/retest[ \\t]+\\S+');
export const TEST_WITH_ANY_TARGET = compileGoRegexp('(?m)^/test[ \\t]+\\S+');
/** `/test …` or `/retest …`: after one that starts jobs, earlier help replies are pruned. */
export const ANY_TEST = compileGoRegexp('(?m)^/(?:re)?test\\b');

const NOTHING = { shouldRun: false, forced: false, defaults: false };

/** `/test NAME`: the job's own trigger decides, and a named job runs whatever files changed. */
export function commandFilter(body: string): Filter {
  return (p) => {
    const asked = p.trigger.test(body);
    return { shouldRun: asked, forced: asked, defaults: true };
  };
}

/** `/test all` (and `/ok-to-test`): the jobs that run by themselves, if their files say so. */
export const testAllFilter: Filter = (p) => ({ shouldRun: !needsExplicitTrigger(p), forced: false, defaults: false });

/**
 * `/retest`: a job whose context failed reruns whatever the files (its default is to run); one
 * that would run by itself and never reported runs if its files say so. A job that runs only when
 * asked by name is not started by `/retest` unless it failed.
 */
export function retestFilter(failedContexts: ReadonlySet<string>, allContexts: ReadonlySet<string>): Filter {
  return (p) => {
    const failed = failedContexts.has(p.context);
    return { shouldRun: failed || (!needsExplicitTrigger(p) && !allContexts.has(p.context)), forced: false, defaults: failed };
  };
}

/** `/retest-required`: `/retest` for the jobs that are not `optional`. */
export function retestRequiredFilter(failedContexts: ReadonlySet<string>, allContexts: ReadonlySet<string>): Filter {
  const retest = retestFilter(failedContexts, allContexts);
  return (p) => (p.optional ? NOTHING : retest(p));
}

/** `/test-manual-required`: the required jobs that run only when asked and have no file filters. */
export const testManualRequiredFilter: Filter = (p) =>
  p.optional || !needsExplicitTrigger(p) || p.runIfChanged !== undefined || p.skipIfOnlyChanged !== undefined ? NOTHING : { shouldRun: true, forced: true, defaults: false };

/** The first filter that asks for a job decides for it, as Prow's AggregateFilter. */
export function aggregateFilter(filters: Filter[]): Filter {
  return (p) => {
    for (const filter of filters) {
      const verdict = filter(p);
      if (verdict.shouldRun) return verdict;
    }
    return NOTHING;
  };
}

/** The head commit's contexts, asked for only when a comment says `/retest` or `/retest-required`. */
export type Contexts = () => Promise<{ failed: ReadonlySet<string>; all: ReadonlySet<string> }>;

/**
 * Prow's PresubmitFilter: the union of what each command in the comment asks for, the most
 * specific first (a named job is forced, so it must win over the same job asked for by `/test all`).
 */
export async function presubmitFilter(body: string, contexts: Contexts): Promise<Filter> {
  const filters: Filter[] = [commandFilter(body)];
  if (RETEST.test(body)) {
    const { failed, all } = await contexts();
    filters.push(retestFilter(failed, all));
  }
  if (RETEST_REQUIRED.test(body)) {
    const { failed, all } = await contexts();
    filters.push(retestRequiredFilter(failed, all));
  }
  if (TEST_MANUAL_REQUIRED.test(body)) filters.push(testManualRequiredFilter);
  if (OK_TO_TEST.test(body) || TEST_ALL.test(body)) filters.push(testAllFilter);
  return aggregateFilter(filters);
}

/** Prow's commentMatchesTrigger: whether a comment says anything the planner answers. */
export function mentionsCommand(body: string, presubmits: readonly Presubmit[]): boolean {
  const commands = [RETEST, RETEST_REQUIRED, TEST_MANUAL_REQUIRED, OK_TO_TEST, OK_TO_TEST_CANCEL, TEST_ALL, EMPTY_TEST, RETEST_WITH_TARGET, TEST_WITH_ANY_TARGET, TEST_HELP];
  return commands.some((re) => re.test(body)) || presubmits.some((p) => p.trigger.test(body));
}

/**
 * Prow's FilterPresubmits: the jobs to start for a pull request against `branch`. The changed files
 * are asked for only when a job's answer depends on them (Prow's deferred ChangedFilesProvider).
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
