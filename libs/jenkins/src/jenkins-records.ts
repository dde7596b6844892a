/**
 * The records the client answers with, the JSON trees it asks Jenkins for, and the parsing of
 * Jenkins' answers into those records.
 */

export interface JenkinsBuild {
  number: number;
  url: string;
  building: boolean;
  /** `SUCCESS`, `FAILURE`, `UNSTABLE`, `ABORTED`, `NOT_BUILT`; null while running. */
  result: string | null;
  queueId?: number;
  parameters: Record<string, string>;
}

export interface JenkinsQueueItem {
  id: number;
  /** The job's own name, without its folders; `taskUrl` tells jobs of equal names apart. */
  taskName: string;
  taskUrl?: string;
  parameters: Record<string, string>;
  why?: string;
}

/** One queue item by id, as Jenkins keeps it for a few minutes after it left the queue. */
export interface JenkinsQueueItemRecord extends JenkinsQueueItem {
  /** Taken out of the queue by someone (the queue's ✕, `/queue/cancelItem`) before it ran. */
  cancelled: boolean;
  /** The build the item became, once it left the queue to run. */
  executable?: { number: number; url: string };
}

export interface RawBuild {
  number?: unknown;
  url?: unknown;
  building?: unknown;
  result?: unknown;
  queueId?: unknown;
  actions?: unknown;
}

export interface RawQueueItem {
  id?: unknown;
  task?: { name?: unknown; url?: unknown };
  actions?: unknown;
  why?: unknown;
  cancelled?: unknown;
  executable?: { number?: unknown; url?: unknown } | null;
}

const QUEUE_ITEM_FIELDS = 'id,task[name,url],actions[parameters[name,value]],why';
export const QUEUE_TREE = `items[${QUEUE_ITEM_FIELDS}]`;
export const QUEUE_ITEM_TREE = `${QUEUE_ITEM_FIELDS},cancelled,executable[number,url]`;
export const BUILD_FIELDS = 'number,result,building,url,queueId,actions[parameters[name,value]]';
/** Jenkins' `builds` holds the newest 100 (Job#getNewBuilds); deeper listings ask `allBuilds` for a range. */
export const BUILDS_LISTED_BY_DEFAULT = 100;

function parseParameters(actions: unknown): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (!Array.isArray(actions)) return parameters;
  for (const action of actions as { parameters?: unknown }[]) {
    if (!action || !Array.isArray(action.parameters)) continue;
    for (const parameter of action.parameters as { name?: unknown; value?: unknown }[]) {
      const { name, value } = parameter ?? {};
      if (typeof name !== 'string') continue;
      // Boolean and number parameters come as JSON values; file and run parameters carry none.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') parameters[name] = String(value);
    }
  }
  return parameters;
}

export function toBuild(raw: RawBuild, number: number): JenkinsBuild {
  const build: JenkinsBuild = {
    number,
    url: typeof raw.url === 'string' ? raw.url : '',
    building: raw.building === true,
    result: typeof raw.result === 'string' ? raw.result : null,
    parameters: parseParameters(raw.actions),
  };
  if (typeof raw.queueId === 'number') build.queueId = raw.queueId;
  return build;
}

export function toQueueItem(raw: RawQueueItem, id: number): JenkinsQueueItem {
  const item: JenkinsQueueItem = {
    id,
    taskName: typeof raw.task?.name === 'string' ? raw.task.name : '',
    parameters: parseParameters(raw.actions),
  };
  if (typeof raw.task?.url === 'string') item.taskUrl = raw.task.url;
  if (typeof raw.why === 'string') item.why = raw.why;
  return item;
}
