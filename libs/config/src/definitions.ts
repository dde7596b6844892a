import { bool, int, list, map, object, str, type Field } from './fields.js';

/**
 * Fields of Prow's JobBase that Bowline reads nowhere but that real configs carry (mostly for the
 * `kubernetes` agent): they are accepted silently, where an unknown field in a Jenkins job is a
 * warning (most often a typo such as `alway_run`).
 */
const PROW_JOB_FIELDS = [
  'spec', 'pipeline_run_spec', 'tekton_pipeline_run_spec', 'cluster', 'namespace', 'error_on_eviction', 'source_path',
  'decorate', 'decoration_config', 'extra_refs',
  'skip_cloning', 'ssh_key_secrets', 'ssh_host_fingerprints', 'reporter_config', 'rerun_auth_config', 'hidden',
  'product_security', 'job_queue_name', 'cron_suspend', 'minimum_interval', 'prowjob_defaults', 'ui_priority',
  'max_retries', 'tags', 'utility_images', 'timeout', 'grace_period', 'gcs_configuration', 'name_override',
];

/** `org/team`, as `allowed_teams` and `team:` access entries name a GitHub team. */
export const ORG_TEAM = '^[^/\\s:]+/[^/\\s]+$';

const jobBase: Record<string, Field> = {
  name: str('The job name; for Jenkins jobs also the Jenkins job path (`folder/job`).'),
  agent: str('Who runs the job: Bowline runs `jenkins` jobs and ignores every other agent.', { default: 'kubernetes' }),
  labels: map('Labels copied to each ProwJob; `label_selector`s of Jenkins masters match them.', str('label value')),
  annotations: map('Annotations copied to each ProwJob.', str('annotation value')),
  max_concurrency: int('At most this many runs of the job at once, across repositories (0: no limit).', { minimum: 0, default: 0 }),
  jenkins_spec: object('Jenkins options.', {
    github_branch_source_job: bool('The job is a GitHub Branch Source (multibranch) job: pull requests build as `PR-N`.', false),
  }),
  // Prow copies these into the ProwJob's refs (pjutil.CompletePrimaryRefs), so Jenkins gets them in JOB_SPEC.
  path_alias: str('Where the repository is cloned under `$GOPATH/src` (e.g. `k8s.io/test-infra`); also sets `SRC_HOST`/`SRC_BASE`.'),
  clone_uri: str('The URI to clone the repository from, when not `https://github.com/ORG/REPO.git`.'),
  skip_submodules: bool('Do not clone submodules.', false),
  clone_depth: int('Clone this many commits deep (0: the whole history).', { minimum: 0, default: 0 }),
  skip_fetch_head: bool('Skip `git fetch <remote>` (the base ref is fetched regardless).', false),
  allowed_teams: list(
    'Only members of these GitHub teams may start the job by comment (for expensive jobs); empty: the tenant’s access rules alone.',
    str('a team as `org/team`', { pattern: ORG_TEAM, patternText: 'a team written org/team' }),
  ),
};

const brancher: Record<string, Field> = {
  branches: list('Run only against branches matching one of these regexes (Go RE2, unanchored).', str('branch regex', { format: 'regexp' })),
  skip_branches: list('Never run against branches matching one of these regexes; wins over `branches`.', str('branch regex', { format: 'regexp' })),
};

const changeMatcher: Record<string, Field> = {
  run_if_changed: str('Run only when a changed file matches this regex (Go RE2).', { format: 'regexp' }),
  skip_if_only_changed: str('Skip when every changed file matches this regex (Go RE2).', { format: 'regexp' }),
};

const reporter: Record<string, Field> = {
  context: str('The GitHub status context (defaults to the job name).'),
  skip_report: bool('Report nothing to GitHub for this job.', false),
};

export const presubmitField = object(
  'A job run against pull requests.',
  {
    ...jobBase,
    ...brancher,
    ...changeMatcher,
    ...reporter,
    always_run: bool('Run on every pull request without being asked.', false),
    optional: bool('Not required for merging: `/retest-required` skips it.', false),
    trigger: str('Comment regex (Go RE2) that runs the job; default `(?m)^/test( | .* )NAME,?($|\\s.*)`.', { format: 'regexp' }),
    rerun_command: str('What to comment to run the job again; default `/test NAME`. Must match `trigger`.'),
  },
  { required: ['name'], open: true, known: [...PROW_JOB_FIELDS, 'run_before_merge'] },
);

export const postsubmitField = object(
  'A job run after a push to a branch.',
  {
    ...jobBase,
    ...brancher,
    ...changeMatcher,
    ...reporter,
    always_run: bool('Run on every push; postsubmits without file filters run anyway.'),
  },
  { required: ['name'], open: true, known: PROW_JOB_FIELDS },
);

export const periodicField = object(
  'A job run on a timer.',
  {
    ...jobBase,
    interval: str('Run this often (Go duration, e.g. `2h`). Exactly one of `interval` and `cron`.', { format: 'duration' }),
    cron: str('Run on this cron schedule (UTC). Exactly one of `interval` and `cron`.', { format: 'cron' }),
  },
  { required: ['name'], open: true, known: PROW_JOB_FIELDS },
);

const orgRepoKey = '^[^/\\s]+/[^/\\s]+$';

const jenkinsOperatorField = object(
  "Prow's settings for a jenkins-operator; with several, `label_selector` says which jobs each one runs.",
  {
    label_selector: str('Kubernetes label selector over job labels.', { format: 'label-selector' }),
    max_concurrency: int('At most this many Jenkins builds at once (0: no limit).', { minimum: 0, default: 0 }),
    max_goroutines: int("Prow's worker count; accepted for compatibility, Bowline sizes its own.", { minimum: 0, default: 20 }),
    job_url_template: str('Go template for `status.url` of a build, over the ProwJob.', { format: 'template' }),
    report_template: str('Go template added to the failure comment, over the ProwJob.', { format: 'template' }),
  },
  { open: true, known: ['job_url_prefix_config', 'report_templates'] },
);

const jenkinsMasterField = object(
  'A Jenkins master Bowline starts builds on.',
  {
    name: str('A short name for logs and metrics.'),
    url: str('Base URL, e.g. `https://jenkins.example.com/`.', { format: 'url' }),
    user: str('User for basic authentication with the API token in `token_file`.'),
    token_file: str('File holding the API token (a Kubernetes Secret volume).', { format: 'path' }),
    bearer_token_file: str('File holding a bearer token, instead of `user` + `token_file`.', { format: 'path' }),
    ca_file: str('PEM file of the CA that signed the master’s certificate.', { format: 'path' }),
    label_selector: str('Jobs whose labels match run on this master (Prow-style sharding).', { format: 'label-selector' }),
    max_concurrency: int('At most this many builds at once on this master (0: no limit).', { minimum: 0, default: 0 }),
    max_pending: str('A build not finished after this long is given up as `error`.', { format: 'duration', default: '24h' }),
  },
  { required: ['name', 'url'] },
);

/** The only forms of an access entry; the loader's message lists them. */
export const ACCESS_ENTRY = '^(org-members|collaborators|team:[^/\\s:]+/[^/\\s]+|user:[^/\\s:]+)$';

const accessList = (description: string): Field =>
  list(description, str('an access entry', { pattern: ACCESS_ENTRY, patternText: 'org-members, collaborators, team:ORG/TEAM or user:LOGIN' }));

const tenantField = object(
  'A tenant: repositories with their own webhook secret, GitHub identity, Jenkins masters, quotas and access rules.',
  {
    name: str('The tenant’s name: lower-case letters, digits and `-`; unique.', { pattern: '^[a-z0-9-]+$', patternText: 'lower-case letters, digits and -' }),
    repos: list(
      'Whole orgs (`acme`) or repositories (`acme/billing`); each in one tenant only, and `org/repo` wins over a whole-org entry of another tenant.',
      str('an org or org/repo', { pattern: '^[^/\\s]+(/[^/\\s]+)?$', patternText: 'an org or org/repo' }),
    ),
    webhook_secret_file: str('The tenant’s webhook secret file, in the format of `GITHUB_WEBHOOK_SECRET_FILE`.', { format: 'path' }),
    github: object('The tenant’s own GitHub identity: `token_file`, or `app_id` + `private_key_file`; unset: the service’s own.', {
      token_file: str('File holding the bot account’s token.', { format: 'path' }),
      app_id: str('The GitHub App’s id.', { orNumber: true }),
      private_key_file: str('File holding the GitHub App’s private key (PEM).', { format: 'path' }),
    }),
    jenkins: list('The tenant’s Jenkins masters, as `bowline.jenkins` entries; its jobs run on these only.', jenkinsMasterField),
    quotas: object('Limits over the tenant’s jobs.', {
      max_concurrency: int('At most this many of the tenant’s builds at once (0: no limit).', { minimum: 0, default: 0 }),
      max_jobs_per_pr: int('At most this many jobs started by one comment or push on a pull request (0: no limit).', { minimum: 0, default: 0 }),
    }),
    access: object('Who may do what; an unset list keeps today’s rules (`bowline.trust`; everyone may view).', {
      test: accessList('Who may `/test` and `/retest`.'),
      ok_to_test: accessList('Who may approve a pull request with `/ok-to-test`.'),
      view: accessList('Who may see the tenant’s jobs and logs.'),
    }),
  },
  { required: ['name', 'repos'] },
);

const bowlineField = object(
  "Bowline's own settings.",
  {
    jenkins: list('Jenkins masters; without this list the JENKINS_* environment variables name one.', jenkinsMasterField),
    trust: object('Who may start jobs.', {
      ok_to_test: str('`per_pull_request` (Prow) or `per_commit`: an approval covers only the head commit it was given on.', {
        enum: ['per_pull_request', 'per_commit'],
        default: 'per_pull_request',
      }),
      only_org_members: bool('Trust org members only, not repository collaborators.', false),
      trusted_apps: list('GitHub Apps (bot logins without `[bot]`) trusted like members.', str('app name')),
      trusted_orgs: list('Orgs whose members are trusted in every repository.', str('org')),
    }),
    jenkins_operator: object('The jenkins-operator.', {
      resync_period: str('How often every unfinished Jenkins ProwJob is compared with Jenkins.', { format: 'duration', default: '10s' }),
    }),
    sinker: object('The sinker, beyond Prow’s `sinker` section.', {
      max_unfinished_age: str('An unfinished ProwJob older than this is ended as `error`, so its status stops saying pending.', {
        format: 'duration',
        default: '48h',
      }),
    }),
    history: object('The HISTORY stream, where every state change of every ProwJob is kept.', {
      max_age: str('How long a state change stays in the history (`bowline jobs`); 2160h is 90 days.', { format: 'duration', default: '2160h' }),
    }),
    tenants: list('Tenants; without this list the whole config is one tenant, `default`, with the settings above.', tenantField),
    kubernetes: object('kube-bridge: ProwJobs as `prow.k8s.io/v1` resources in a cluster (issue 19).', {
      enabled: bool('Mirror every ProwJob into the cluster (and import, see `import`).', false),
      namespace: str('The namespace the ProwJob resources live in (Prow’s `prowjob_namespace`).', { default: 'default' }),
      import: bool('Run ProwJobs with `agent: jenkins` that others create in the cluster (Prow’s hook, Deck’s rerun, mkpj).', true),
    }),
  },
  {},
);

/** The whole config.yaml: Prow's sections Bowline reads, its own `bowline:`, and any other Prow section. */
export const configField = object(
  "Prow's config.yaml as Bowline reads it.",
  {
    presubmits: map('Presubmit jobs by `org/repo`.', list('jobs', presubmitField), orgRepoKey),
    postsubmits: map('Postsubmit jobs by `org/repo`.', list('jobs', postsubmitField), orgRepoKey),
    periodics: list('Periodic jobs.', periodicField),
    jenkins_operators: list("Prow's jenkins-operator settings.", jenkinsOperatorField),
    status_error_link: str('Where the status of a Jenkins job that cannot be started or found links to.', {
      format: 'url',
      default: 'https://github.com/kubernetes/test-infra/issues',
    }),
    github_reporter: object(
      "Prow's crier GitHub reporter.",
      {
        job_types_to_report: list('Job types reported to GitHub; Prow allows presubmit and postsubmit (both by default).', str('job type', { enum: ['presubmit', 'postsubmit'] })),
      },
      { open: true },
    ),
    sinker: object(
      "Prow's sinker.",
      {
        resync_period: str('How often the sinker looks.', { format: 'duration', default: '1h' }),
        max_prowjob_age: str('Finished ProwJobs are deleted this long after they started.', { format: 'duration', default: '168h' }),
      },
      { open: true, known: ['max_pod_age', 'terminated_pod_ttl', 'exclude_clusters'] },
    ),
    bowline: bowlineField,
  },
  { open: true },
);

/** A file of Prow's split job config (`--job-config`): only jobs. */
export const jobConfigField = object(
  'A job config file.',
  {
    presubmits: map('Presubmit jobs by `org/repo`.', list('jobs', presubmitField), orgRepoKey),
    postsubmits: map('Postsubmit jobs by `org/repo`.', list('jobs', postsubmitField), orgRepoKey),
    periodics: list('Periodic jobs.', periodicField),
  },
  { open: true },
);
