# syntax=docker/dockerfile:1
# stripecache image: docker build -t stripecache . && docker run --rm -p 3000:3000 stripecache
# Flags go after the image name (docker run stripecache --memory 2GiB) or as STRIPECACHE_* variables.

ARG NODE_IMAGE=node:20-bookworm-slim

# Build: dev dependencies (TypeScript) only live here.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would compile before the sources are copied; koffi ships its binaries.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Runtime dependencies only (koffi's prebuilt binaries, undici's llhttp wasm, arg).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    STRIPECACHE_HOST=0.0.0.0 \
    STRIPECACHE_PORT=3000
# tini as PID 1: forwards SIGTERM/SIGINT to node and reaps children, so `docker stop` drains.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's "node" user (uid 1000): nothing here needs root, and the store lives in memory only.
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks /healthz (503 while draining, so the probe fails).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.STRIPECACHE_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# On SIGTERM node drains for --shutdown-timeout (10s): give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]
