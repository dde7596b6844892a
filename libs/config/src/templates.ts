import { GoTemplate, type TemplateSubset } from '@bowline/go';
import { SAMPLE_PROWJOB_VIEW } from './template-view.js';

/**
 * The part of Go's template language a config's templates (`job_url_template`, `report_template`,
 * Deck's `url_template`) may use: all of it but defining and calling templates, the html, js and
 * call functions, and methods, which a ProwJob's view has none of. That is what Bowline's config
 * has taken since its first release, when the engine had nothing more; Prow takes all of Go's
 * language, so a config may one day be allowed more, but not by the engine moving (issue 16).
 */
export const PROW_TEMPLATE_SUBSET: TemplateSubset = {
  actions: ['define', 'template', 'block'],
  functions: ['html', 'js', 'call'],
  methods: false,
};

/**
 * A config's template, parsed and run once on the view of a sample ProwJob (the view the services
 * run it on), so a misspelt field (`{{.Spec.Jbo}}`) fails when the config loads rather than on a
 * build later. Throws TemplateError.
 */
export function parseConfigTemplate(text: string, name?: string): GoTemplate {
  const template = GoTemplate.parse(text, { name, subset: PROW_TEMPLATE_SUBSET });
  template.execute(SAMPLE_PROWJOB_VIEW);
  return template;
}
