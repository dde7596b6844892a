# syntax=docker/dockerfile:1
# One build of the whole workspace, then one small image per service:
#   docker build --target hook -t bowline/hook:0.1.0 .      (or `make images` for all of them)
# Targets: hook, planner, jenkins-operator, reporter, sinker, deck, kube-bridge, cli.
#
# The runtime base is distroless: no shell, no package manager, Node.js as the entrypoint, so each
# target only names its script in CMD (exec form; there is no /bin/sh to run a shell form).
# Override the bases (for a mirror or a digest pin) with --build-arg.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# ── manifests: what npm ci reads, for both installs below ─────────────────────────────────────
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
# npm ci needs every workspace the lock file lists, libs/testing included, or it refuses the lock.
COPY package.json package-lock.json ./
COPY libs/observability/package.json libs/observability/
COPY libs/go/package.json libs/go/
COPY libs/config/package.json libs/config/
COPY libs/prowjob/package.json libs/prowjob/
COPY libs/bus/package.json libs/bus/
COPY libs/service/package.json libs/service/
COPY libs/github/package.json libs/github/
COPY libs/jenkins/package.json libs/jenkins/
COPY libs/testing/package.json libs/testing/
COPY services/hook/package.json services/hook/
COPY services/planner/package.json services/planner/
COPY services/jenkins-operator/package.json services/jenkins-operator/
COPY services/reporter/package.json services/reporter/
COPY services/sinker/package.json services/sinker/
COPY services/deck/package.json services/deck/
COPY services/kube-bridge/package.json services/kube-bridge/
# The committed `bowline` bin shim: npm links it during install, so it must exist before npm ci.
COPY cli/package.json cli/
COPY cli/bin cli/bin

# ── build: every dependency, then `tsc -b` over the workspace ─────────────────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the npm ci layer is reused until a package.json or the lock changes.
COPY --from=manifests /app ./
# No install scripts: the only packages that have them are dev tools tsc does not need (swc, jest's
# resolver, a file watcher).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json ./
COPY libs libs
COPY services services
COPY cli cli
RUN npx tsc -b

# ── prod-deps: production dependencies only, from the same lock ───────────────────────────────
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /app ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ── runtime: what every service shares ────────────────────────────────────────────────────────
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# node_modules/@bowline/* are relative symlinks into libs/ and services/; COPY keeps them as
# symlinks, and those of workspaces an image leaves out (libs/testing, other services) dangle
# harmlessly since nothing imports them.
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/libs/observability/package.json libs/observability/
COPY --from=build /app/libs/observability/dist libs/observability/dist
COPY --from=build /app/libs/go/package.json libs/go/
COPY --from=build /app/libs/go/dist libs/go/dist
COPY --from=build /app/libs/config/package.json libs/config/
COPY --from=build /app/libs/config/dist libs/config/dist
COPY --from=build /app/libs/prowjob/package.json libs/prowjob/
COPY --from=build /app/libs/prowjob/dist libs/prowjob/dist
COPY --from=build /app/libs/bus/package.json libs/bus/
COPY --from=build /app/libs/bus/dist libs/bus/dist
COPY --from=build /app/libs/service/package.json libs/service/
COPY --from=build /app/libs/service/dist libs/service/dist
COPY --from=build /app/libs/github/package.json libs/github/
COPY --from=build /app/libs/github/dist libs/github/dist
COPY --from=build /app/libs/jenkins/package.json libs/jenkins/
COPY --from=build /app/libs/jenkins/dist libs/jenkins/dist
# distroless's `nonroot` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

# ── one target per service: its package.json (it says "type": "module") and dist ─────────────
FROM runtime AS hook
COPY --from=build /app/services/hook/package.json services/hook/
COPY --from=build /app/services/hook/dist services/hook/dist
ENV PORT=8888
EXPOSE 8888
CMD ["services/hook/dist/main.js"]

FROM runtime AS planner
COPY --from=build /app/services/planner/package.json services/planner/
COPY --from=build /app/services/planner/dist services/planner/dist
ENV PORT=8081
EXPOSE 8081
CMD ["services/planner/dist/main.js"]

FROM runtime AS jenkins-operator
COPY --from=build /app/services/jenkins-operator/package.json services/jenkins-operator/
COPY --from=build /app/services/jenkins-operator/dist services/jenkins-operator/dist
ENV PORT=8082
EXPOSE 8082
CMD ["services/jenkins-operator/dist/main.js"]

FROM runtime AS reporter
COPY --from=build /app/services/reporter/package.json services/reporter/
COPY --from=build /app/services/reporter/dist services/reporter/dist
ENV PORT=8083
EXPOSE 8083
CMD ["services/reporter/dist/main.js"]

FROM runtime AS sinker
COPY --from=build /app/services/sinker/package.json services/sinker/
COPY --from=build /app/services/sinker/dist services/sinker/dist
ENV PORT=8084
EXPOSE 8084
CMD ["services/sinker/dist/main.js"]

# The deck also serves its stylesheet and scripts from static/, as they are in the repository.
FROM runtime AS deck
COPY --from=build /app/services/deck/package.json services/deck/
COPY --from=build /app/services/deck/dist services/deck/dist
COPY --from=build /app/services/deck/static services/deck/static
ENV PORT=8085
EXPOSE 8085
CMD ["services/deck/dist/main.js"]

FROM runtime AS kube-bridge
COPY --from=build /app/services/kube-bridge/package.json services/kube-bridge/
COPY --from=build /app/services/kube-bridge/dist services/kube-bridge/dist
ENV PORT=8086
EXPOSE 8086
CMD ["services/kube-bridge/dist/main.js"]

# `docker run --rm -v "$PWD/config:/config:ro" bowline/cli checkconfig --config /config/config.yaml`
# (without arguments it prints its usage).
FROM runtime AS cli
COPY --from=build /app/cli/package.json cli/
COPY --from=build /app/cli/dist cli/dist
ENTRYPOINT ["/nodejs/bin/node", "cli/dist/main.js"]
