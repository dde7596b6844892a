import { stringify } from 'yaml';
import type { ProwJob } from '@bowline/prowjob';
import { html, linkTo, type Html } from './html.js';
import { page } from './layout.js';
import { actionSlot } from './auth/action-slot.js';

/** The ProwJob as YAML, as Prow's deck serves it at `/prowjob?prowjob=<name>`. */
export function prowJobYaml(job: ProwJob): string {
  return stringify(job, { lineWidth: 0 });
}

/** `/prowjob/<name>`: the YAML on a page, with the ways on from it. */
export function prowJobPage(job: ProwJob): Html {
  const name = job.metadata.name;
  const body = html`<h1>ProwJob of ${job.spec.job}: <span class="mono">${name}</span></h1>
<p><span class="state state-${job.status.state}">${job.status.state}</span> ${job.spec.job}${
    job.status.url ? html` · ${linkTo(job.status.url, 'Jenkins build')}` : ''
  } · <a href="/prowjob?prowjob=${encodeURIComponent(name)}">raw YAML</a></p>
<p>${actionSlot({ name, job: job.spec.job, repo: job.spec.refs.org ? `${job.spec.refs.org}/${job.spec.refs.repo}` : '', state: job.status.state })}</p>
<pre class="yaml" tabindex="0" aria-label="ProwJob ${name} as YAML">${prowJobYaml(job)}</pre>`;
  return page(`ProwJob ${job.spec.job}`, body);
}
