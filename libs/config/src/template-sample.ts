/**
 * A ProwJob as Go templates see it (Prow's Go field names), fully populated. The loader executes
 * every template of the config against it, so a misspelt field (`.Spec.Jbo`) is an error when the
 * config loads rather than a broken link on a build later. libs/prowjob's template view produces
 * this same shape from a stored ProwJob (a test there checks that the shapes agree).
 */
export const SAMPLE_TEMPLATE_PROWJOB = {
  TypeMeta: { Kind: 'ProwJob', APIVersion: 'prow.k8s.io/v1' },
  Kind: 'ProwJob',
  APIVersion: 'prow.k8s.io/v1',
  ObjectMeta: {
    Name: 'd5a2c7e0-0000-4000-8000-000000000000',
    Namespace: 'default',
    Labels: new Map([['prow.k8s.io/job', 'unit']]),
    Annotations: new Map([['prow.k8s.io/job', 'unit']]),
    CreationTimestamp: '2026-01-01T00:00:00Z',
  },
  Name: 'd5a2c7e0-0000-4000-8000-000000000000',
  Namespace: 'default',
  Labels: new Map([['prow.k8s.io/job', 'unit']]),
  Annotations: new Map([['prow.k8s.io/job', 'unit']]),
  Spec: {
    Type: 'presubmit',
    Agent: 'jenkins',
    Cluster: '',
    Namespace: '',
    Job: 'unit',
    Refs: {
      Org: 'acme',
      Repo: 'widgets',
      RepoLink: 'https://github.com/acme/widgets',
      BaseRef: 'main',
      BaseSHA: 'b'.repeat(40),
      BaseLink: '',
      PathAlias: '',
      WorkDir: false,
      CloneURI: '',
      SkipSubmodules: false,
      CloneDepth: 0,
      SkipFetchHead: false,
      Pulls: [{ Number: 1, Author: 'alice', SHA: 'a'.repeat(40), Title: 'A change', Ref: '', HeadRef: 'feature', Link: '', CommitLink: '', AuthorLink: '' }],
    },
    ExtraRefs: [],
    Report: true,
    Context: 'unit',
    RerunCommand: '/test unit',
    MaxConcurrency: 0,
    JenkinsSpec: { GitHubBranchSourceJob: false },
  },
  Status: {
    StartTime: '2026-01-01T00:00:00Z',
    PendingTime: '2026-01-01T00:00:01Z',
    CompletionTime: '',
    State: 'pending',
    Description: 'Jenkins job running.',
    URL: '',
    PodName: '',
    BuildID: '1700000000000',
    JenkinsBuildID: '1',
    PrevReportStates: new Map<string, string>(),
  },
};
