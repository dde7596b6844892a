import { readCommonSettings, type CommonSettings } from '@bowline/bus';
import type { JenkinsAuth } from '@bowline/jenkins';
import { readSecretFile, requireEnv, type Env } from '@bowline/observability';

export interface OperatorSettings extends CommonSettings {
  jenkinsUrl: string;
  jenkinsAuth: JenkinsAuth;
}

/** The default Jenkins master from `JENKINS_URL` with basic (user + API token) or bearer auth. */
export function readOperatorSettings(env: Env): OperatorSettings {
  const jenkinsUrl = requireEnv(env, 'JENKINS_URL', 'the URL of the Jenkins master, e.g. https://jenkins.example.com');
  const jenkinsAuth: JenkinsAuth = env.JENKINS_BEARER_TOKEN_FILE
    ? { kind: 'bearer', token: readSecretFile(env, 'JENKINS_BEARER_TOKEN_FILE', 'a Jenkins bearer token') }
    : {
        kind: 'basic',
        user: requireEnv(env, 'JENKINS_USER', 'the Jenkins user whose API token is in JENKINS_TOKEN_FILE'),
        token: readSecretFile(env, 'JENKINS_TOKEN_FILE', "the Jenkins user's API token"),
      };
  return {
    ...readCommonSettings(env, 8082),
    jenkinsUrl,
    jenkinsAuth,
  };
}
