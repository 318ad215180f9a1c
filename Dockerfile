# vmop's container image: the manager (controllers and admission webhooks) on Node.js 20, as non-root.
#   docker build -t ghcr.io/vmop/vmop:0.1.0 .
#   docker push ghcr.io/vmop/vmop:0.1.0
# config/manager/manager.yaml runs it with: manager --leader-elect --health-addr … --webhook-cert-dir …
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY bin ./bin
COPY config ./config
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/vmop.js"]
CMD ["manager"]
