import { parseArgs } from 'node:util';
import { waitFor, type RecordedRequest } from '@bowline/testing';
import { COMMENTER, headSha, ORG, signedComment, startBenchPipeline, statusWrite, WebhookSender } from '../pipeline-traffic.js';
import { emitSection, verdict } from '../report.js';
import { sleep } from '../stats.js';

// GitHub economy: the requests one `/test all` costs from the comment to the last final status,
// counted at the test GitHub, beside what Prow's trigger plugin and crier make for the same event
// (derived from their code: see prowRequests).

const USAGE = `usage: npm run bench:economy -- [--jobs 1,5,20] [--json FILE]`;

/**
 * Prow, for an org member's `/test all` on a pull request whose N jobs always run, all passing,
 * with no earlier report comment (read in kubernetes-sigs/prow):
 * - trigger (pkg/plugins/trigger/generic-comment.go handleGenericComment): TrustedUser → IsMember
 *   (1 GET; the bot's own login is cached), GetIssueLabels (1 GET, since the author was trusted
 *   without TrustedPullRequest), refGetter.PullRequest → GetPullRequest (1 GET), refGetter.BaseSHA
 *   → GetRef heads/<base> (1 GET, pkg/config/config.go), FilterPresubmits needs neither the
 *   combined status (no /retest) nor the changed files (no run_if_changed), PruneComments on a
 *   `/test` → ListIssueComments once (1 GET, pkg/commentpruner); RunRequested creates ProwJobs
 *   in Kubernetes, not GitHub. 5 requests.
 * - the jenkins-operator reports itself unless started with --skip-report (pkg/jenkins/controller.go:
 *   every job its sync pass touched goes to reportlib.Report, pkg/github/report/report.go): one
 *   CreateStatus per report, ListIssueComments once the job is complete (nothing to delete or
 *   create when all pass). A job whose build starts before the next 30 s pass is reported three
 *   times: "Jenkins job enqueued." by syncTriggeredJob, "Jenkins job running." on the next pass
 *   (pending, with its URL; later passes over a running job with a URL report nothing), and its
 *   result. 4 requests per job; each further pass a build spends in Jenkins' queue adds one
 *   "enqueued" status. (Crier's GitHub reporter, where it also reports these jobs, would add its
 *   own "Job triggered." and a status per state change on top.)
 */
export function prowRequests(jobs: number): { reads: number; writes: number } {
  return { reads: 5 + jobs, writes: 3 * jobs };
}

/** A request's route with the names and numbers taken out, to group them. */
function route(request: RecordedRequest): string {
  const path = request.path
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{o}/{r}')
    .replace(/\/orgs\/[^/]+/, '/orgs/{org}')
    .replace(/\/(members|collaborators)\/[^/]+/, '/$1/{user}')
    .replace(/\/[0-9a-f]{40}$/, '/{sha}')
    .replace(/\/\d+(?=\/|$)/g, '/{n}');
  return `${request.method} ${path}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { jobs: { type: 'string', default: '1,5,20' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.jobs.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--jobs must list whole numbers above 0\n${USAGE}`);
  const repos = ['warm', ...sizes.map((n) => `econ-${n}`)];
  const jobsOf = (repo: string): number => (repo === 'warm' ? 1 : Number(repo.slice('econ-'.length)));
  const config = `presubmits:\n${repos
    .map((repo) => `  ${ORG}/${repo}:\n${Array.from({ length: jobsOf(repo) }, (_, i) => `  - name: ${repo}-${i}\n    agent: jenkins\n    always_run: true\n    context: ci/${repo}-${i}\n`).join('')}`)
    .join('')}`;
  const pipeline = await startBenchPipeline({ config });
  const sender = new WebhookSender(pipeline.hookUrl);
  try {
    pipeline.jenkins.autoRun({ startAfterMs: 50, finishAfterMs: 300, result: () => 'SUCCESS' });
    const rows: string[][] = [];
    const targets: string[] = [];
    for (const [r, repo] of repos.entries()) {
      for (let i = 0; i < jobsOf(repo); i += 1) pipeline.jenkins.addJob(`${repo}-${i}`);
      pipeline.github.addPullRequest({ org: ORG, repo, number: 1, author: COMMENTER, headSha: headSha(1, r), headRef: 'feature', baseRef: 'main', files: ['src/x.go'] });
      const before = pipeline.github.requests.length;
      const quotaBefore = pipeline.github.rateLimitUsed();
      await sender.send(signedComment(pipeline, repo, 1, '/test all', `economy-${process.pid}-${repo}`));
      const finals = (): number =>
        pipeline.github.requests.slice(before).filter((q) => ['success', 'failure'].includes(statusWrite(q.method, q.path, q.body)?.state ?? '')).length;
      await waitFor(`${jobsOf(repo)} final statuses on ${repo}`, () => finals() >= jobsOf(repo), { timeoutMs: 60_000 });
      // Until GitHub has heard nothing for 2 s: the failure-comment check comes after the statuses.
      for (let seen = -1; seen !== pipeline.github.requests.length; ) {
        seen = pipeline.github.requests.length;
        await sleep(2000);
      }
      if (repo === 'warm') continue;
      const requests = pipeline.github.requests.slice(before);
      const byRoute = new Map<string, number>();
      for (const q of requests) byRoute.set(route(q), (byRoute.get(route(q)) ?? 0) + 1);
      const reads = requests.filter((q) => q.method === 'GET').length;
      const writes = requests.length - reads;
      const prow = prowRequests(jobsOf(repo));
      rows.push([
        String(jobsOf(repo)),
        String(requests.length),
        `${reads} / ${writes}`,
        String(pipeline.github.rateLimitUsed() - quotaBefore),
        String(prow.reads + prow.writes),
        `${prow.reads} / ${prow.writes}`,
        `${(requests.length / (prow.reads + prow.writes)).toFixed(2)}×`,
        [...byRoute].map(([name, count]) => `${name} ×${count}`).join('; '),
      ]);
      const firstJob = requests
        .map((q) => statusWrite(q.method, q.path, q.body) && (JSON.parse(q.body) as { context: string; state: string; description?: string }))
        .filter((w) => w && w.context === `ci/${repo}-0`)
        .map((w) => `${w!.state} "${(w!.description ?? '').split('\u2001')[0]}"`);
      targets.push(
        `${jobsOf(repo)} jobs: ${requests.length} requests against Prow's ${prow.reads + prow.writes} (${verdict(requests.length <= prow.reads + prow.writes)}); ` +
          `the statuses of one job, in order: ${firstJob.join(' → ')}`,
      );
    }
    emitSection(
      {
        id: 'economy',
        title: 'GitHub economy: requests per /test all',
        command: 'npm run bench:economy',
        about:
          'One `/test all` by an org member on a pull request whose N Jenkins jobs always run and pass, through the running pipeline; every request the test GitHub ' +
          'received from the comment until the last final status and 2 s of silence after it. A warm-up event on another repository goes first, so the bot\'s own ' +
          'login (asked once per process) is not counted. "Quota" leaves out conditional GETs answered 304, which GitHub does not count. Prow\'s figure is derived from ' +
          'its code for the same event (bench/economy/run.ts, prowRequests): trigger 5 GETs (IsMember, GetIssueLabels, GetPullRequest, GetRef, ListIssueComments to ' +
          'prune help); its jenkins-operator\'s own reports, 3 status POSTs per job (enqueued, running, result) and 1 ListIssueComments once complete. Bowline\'s reporter ' +
          'also reports the job as triggered before Jenkins has it ("Job triggered.", as crier does): one status more per job.',
        tables: [
          {
            rows: [['jobs', 'Bowline requests', 'GET / writes', 'Bowline quota', 'Prow requests', 'Prow GET / writes', 'Bowline ÷ Prow', 'Bowline by route'], ...rows],
          },
        ],
        notes: targets,
      },
      values.json,
    );
  } finally {
    sender.close();
    await pipeline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
