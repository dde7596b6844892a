import type { Config } from '@bowline/config';
import type { JenkinsAuth } from '@bowline/jenkins';
import { SettingsError } from '@bowline/observability';
import { readCommonSettings, readSecretFile, requireEnv, type CommonSettings, type Env } from '@bowline/service';

/** The master named by the JENKINS_* variables. */
export interface DefaultMasterSettings {
  url: string;
  auth: JenkinsAuth;
  /** PEM content of `JENKINS_CA_FILE`. */
  ca?: string;
}

export interface OperatorSettings extends CommonSettings {
  /** Absent when JENKINS_URL is unset: config.yaml's `bowline.jenkins` must then list the masters. */
  jenkins?: DefaultMasterSettings;
}

/** The JENKINS_URL master with basic (user + API token) or bearer auth, when JENKINS_URL is set. */
export function readOperatorSettings(env: Env): OperatorSettings {
  const common = readCommonSettings(env, 8082);
  if (!env.JENKINS_URL?.trim()) return common;
  const url = requireEnv(env, 'JENKINS_URL', 'the URL of the Jenkins master, e.g. https://jenkins.example.com');
  const auth: JenkinsAuth = env.JENKINS_BEARER_TOKEN_FILE
    ? { kind: 'bearer', token: readSecretFile(env, 'JENKINS_BEARER_TOKEN_FILE', 'a Jenkins bearer token') }
    : {
        kind: 'basic',
        user: requireEnv(env, 'JENKINS_USER', 'the Jenkins user whose API token is in JENKINS_TOKEN_FILE'),
        token: readSecretFile(env, 'JENKINS_TOKEN_FILE', "the Jenkins user's API token"),
      };
  const ca = env.JENKINS_CA_FILE?.trim()
    ? readSecretFile(env, 'JENKINS_CA_FILE', "the PEM certificate of the CA that signed Jenkins' certificate")
    : undefined;
  return { ...common, jenkins: { url, auth, ca } };
}

/** At start, some master must exist: the JENKINS_URL one, or one listed in config.yaml. */
export function requireSomeMaster(settings: OperatorSettings, config: Config): void {
  if (settings.jenkins || config.bowline.jenkins.length > 0) return;
  throw new SettingsError(
    'JENKINS_URL is not set: set it to the URL of the Jenkins master, e.g. https://jenkins.example.com (or list masters under bowline.jenkins in config.yaml)',
    { context: { variable: 'JENKINS_URL' } },
  );
}
