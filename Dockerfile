# syntax=docker/dockerfile:1
# vmkeeper operator image: `docker build -t vmkeeper:dev .`
# The same image runs every subcommand (`operator` by default; `agent`, `validate`, ...).

ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: compile TypeScript, then drop dev dependencies -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY crds ./crds
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE}
# Power fencing runs in the operator: ipmitool for IPMI devices (password through the
# environment, never argv) and the ClusterLabs fence agents (fence_ipmilan, fence_redfish,
# fence_idrac, ...; in /usr/sbin, on PATH) for FenceAgent devices. Redfish is native.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fence-agents ipmitool \
 && rm -rf /var/lib/apt/lists/*
LABEL org.opencontainers.image.title="vmkeeper" \
      org.opencontainers.image.description="Kubernetes operator that keeps OpenStack VMs running" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
# Application files stay owned by root and read-only for the runtime user; the chart mounts
# a writable emptyDir at /tmp and sets readOnlyRootFilesystem.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/crds ./crds
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/src/cli/vmkeeper.js"]
CMD ["operator"]
