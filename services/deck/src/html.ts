/**
 * HTML that is safe to send: text from ProwJobs (job names, authors, titles: anyone who can open a
 * pull request writes some of it) only reaches a page through `html`, which escapes every value
 * that is not already `Html`. Nothing else in the deck builds markup from strings.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** A tagged template: the literal parts are markup, every `${value}` is escaped unless it is `Html`. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let text = strings[0]!;
  values.forEach((value, i) => {
    text += render(value) + strings[i + 1]!;
  });
  return new Html(text);
}

/**
 * A link's target when it is a web address; undefined otherwise, so a stored `javascript:` link
 * (refs come from webhook payloads) never becomes clickable.
 */
export function webLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  try {
    const url = new URL(link);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** `<a href>` around the text when the link is a web address, the text alone otherwise. */
export function linkTo(link: string | undefined, text: Part, attributes: Html = new Html('')): Html {
  const href = webLink(link);
  return href ? html`<a href="${href}"${attributes}>${text}</a>` : html`${text}`;
}
