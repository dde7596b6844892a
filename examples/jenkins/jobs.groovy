// Job DSL (the job-dsl plugin; jenkins.yaml runs it at start): the Jenkins jobs config.yaml names,
// each a pipeline read from the CI repository, with Bowline's parameters declared on the job
// itself. A pipeline that declared them only in its Jenkinsfile would have none before its first
// run, and Bowline would have to prime it with one unparameterised build first.

// The parameters Bowline sends (README, "The Jenkins side"), declared by Jenkinsfile too.
def bowlineParameters = [
  BUILD_ID: 'Set by Bowline: the build id, as Prow gives it.',
  PROW_JOB_ID: 'Set by Bowline: the ProwJob this build runs.',
  JOB_NAME: 'Set by Bowline: the job name in config.yaml.',
  JOB_TYPE: 'Set by Bowline: presubmit, postsubmit or periodic.',
  JOB_SPEC: "Set by Bowline: Prow's job spec, JSON.",
  REPO_OWNER: 'Set by Bowline: the GitHub organization.',
  REPO_NAME: 'Set by Bowline: the repository.',
  PULL_BASE_REF: 'Set by Bowline: the base branch.',
  PULL_BASE_SHA: "Set by Bowline: the base branch's commit.",
  PULL_REFS: 'Set by Bowline: base_ref:base_sha,number:sha for each pull request.',
  PULL_NUMBER: 'Set by Bowline for presubmits: the pull request.',
  PULL_PULL_SHA: "Set by Bowline for presubmits: the pull request's head commit.",
  PULL_HEAD_REF: "Set by Bowline for presubmits: the pull request's branch.",
  PULL_TITLE: "Set by Bowline for presubmits: the pull request's title.",
]

def bowlineJob(String name, String jenkinsfile, String what) {
  pipelineJob(name) {
    description("${what} Started by Bowline (config.yaml job ${name}); builds the commit its PULL_REFS name.")
    parameters {
      bowlineParameters.each { parameter, help -> stringParam(parameter, '', help) }
    }
    logRotator {
      numToKeep(200)
    }
    definition {
      cpsScm {
        scm {
          git {
            remote {
              url('https://github.com/acme/ci-pipelines.git')
              credentials('github-bot')
            }
            branch('main')
          }
        }
        scriptPath(jenkinsfile)
        lightweight(true)
      }
    }
  }
}

bowlineJob('widgets-image', 'Jenkinsfile', 'The widgets image (Dockerfile) and npm package.')
bowlineJob('widgets-image-s2i', 'Jenkinsfile.s2i', 'The widgets image, built with s2i.')
