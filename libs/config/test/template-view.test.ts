import { describe, expect, it } from '@jest/globals';
import { GoTemplate } from '@bowline/go';
import { prowJobGoView, SAMPLE_PROWJOB, SAMPLE_PROWJOB_VIEW } from '../src/template-view.js';

/**
 * The fields of Prow's Go structs in declaration order: prowapi's ProwJob, ProwJobSpec,
 * ProwJobStatus, Refs, Pull and JenkinsSpec (sigs.k8s.io/prow pkg/apis/prowjobs/v1/types.go) and
 * apimachinery's TypeMeta and ObjectMeta. The view holds the ones Bowline has values for.
 */
const PROW_FIELDS: Record<string, string[]> = {
  ProwJob: ['TypeMeta', 'ObjectMeta', 'Spec', 'Status'],
  TypeMeta: ['Kind', 'APIVersion'],
  ObjectMeta: ['Name', 'GenerateName', 'Namespace', 'SelfLink', 'UID', 'ResourceVersion', 'Generation', 'CreationTimestamp', 'DeletionTimestamp', 'DeletionGracePeriodSeconds', 'Labels', 'Annotations', 'OwnerReferences', 'Finalizers', 'ManagedFields'],
  Spec: ['Type', 'Agent', 'Cluster', 'Namespace', 'Job', 'Refs', 'ExtraRefs', 'Report', 'Context', 'RerunCommand', 'MaxConcurrency', 'ErrorOnEviction', 'PodSpec', 'JenkinsSpec', 'PipelineRunSpec', 'TektonPipelineRunSpec', 'DecorationConfig', 'ReporterConfig', 'RerunAuthConfig', 'Hidden', 'ProwJobDefault', 'JobQueueName'],
  Status: ['StartTime', 'PendingTime', 'CompletionTime', 'State', 'Description', 'URL', 'PodRevivalCount', 'PodName', 'BuildID', 'JenkinsBuildID', 'PrevReportStates'],
  Refs: ['Org', 'Repo', 'RepoLink', 'BaseRef', 'BaseSHA', 'BaseLink', 'Pulls', 'PathAlias', 'WorkDir', 'Auxiliary', 'CloneURI', 'SkipSubmodules', 'CloneDepth', 'SkipFetchHead', 'BloblessFetch', 'SparseCheckoutFiles'],
  Pull: ['Number', 'Author', 'SHA', 'Title', 'Ref', 'HeadRef', 'Link', 'CommitLink', 'AuthorLink'],
  JenkinsSpec: ['GitHubBranchSourceJob'],
};

const view = SAMPLE_PROWJOB_VIEW;
/** The struct at a path of fields (and indexes) in the view. */
const at = (...path: (string | number)[]): object => path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], view) as object;
const structs: [string, object][] = [
  ['ProwJob', view],
  ['TypeMeta', at('TypeMeta')],
  ['ObjectMeta', at('ObjectMeta')],
  ['Spec', at('Spec')],
  ['Status', at('Status')],
  ['Refs', at('Spec', 'Refs')],
  ['Pull', at('Spec', 'Refs', 'Pulls', 0)],
  ['JenkinsSpec', at('Spec', 'JenkinsSpec')],
];

describe("a ProwJob's view for templates", () => {
  it.each(structs)("names the fields of %s as Prow's Go struct does, in its order", (struct, value) => {
    const fields = Object.keys(value);
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter((field) => !PROW_FIELDS[struct]!.includes(field))).toEqual([]);
    expect(fields).toEqual(PROW_FIELDS[struct]!.filter((field) => fields.includes(field)));
  });

  it('promotes the fields of the embedded TypeMeta and ObjectMeta, as Go does', () => {
    expect(GoTemplate.parse('{{.Kind}} {{.APIVersion}} {{.Name}} {{.Namespace}} {{index .Labels "prow.k8s.io/job"}} {{index .Annotations "prow.k8s.io/job"}}').execute(view)).toBe(
      'ProwJob prow.k8s.io/v1 d5a2c7e0-1c2b-4f3a-9d8e-7f6a5b4c3d2e default unit unit',
    );
  });

  it("gives what a ProwJob's JSON lacks Go's zero values, and Prow's defaults for its namespaces and cluster", () => {
    const bare = prowJobGoView({ metadata: {}, spec: {}, status: {} });
    expect(GoTemplate.parse('[{{.Name}}][{{.Spec.Job}}][{{.Spec.MaxConcurrency}}][{{.Spec.Report}}][{{.Spec.Refs}}][{{.Namespace}} {{.Spec.Namespace}} {{.Spec.Cluster}}]').execute(bare)).toBe(
      '[][][0][false][<no value>][default default default]',
    );
  });

  it('is of a sample ProwJob written as Prow writes it', () => {
    expect(SAMPLE_PROWJOB_VIEW).toEqual(prowJobGoView(SAMPLE_PROWJOB));
    expect(GoTemplate.parse('{{.Spec.Refs.Org}}/{{.Spec.Refs.Repo}}#{{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}} {{.Status.State}}').execute(view)).toBe('acme/widgets#17 success');
  });
});
