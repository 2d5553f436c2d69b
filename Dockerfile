# The Cairn container image: storaged and storectl on a distroless base,
# running as a non-root user. Build from the top of the repository:
#
#   docker build -t cairn --build-arg VERSION=$(git describe --tags --always --dirty) .
#
# Default command: the one-process dev cluster, data in the volume
# /var/lib/cairn, S3 on 9000 and the admin API on 7070:
#
#   docker run -p 9000:9000 -p 7070:7070 -v cairn:/var/lib/cairn cairn
#
# A node of a real cluster: give storaged's flags, or --config with a file
# mounted read-only, e.g.
#
#   docker run --network host -v /srv/cairn:/var/lib/cairn -v /etc/cairn:/etc/cairn:ro \
#     cairn --config /etc/cairn/storaged.yaml

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X cairn/internal/version.version=${VERSION} -X cairn/internal/version.commit=${COMMIT}" \
      -o /out/bin/ ./cmd/storaged ./cmd/storectl \
 && mkdir -p /out/var/lib/cairn

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/storaged /out/bin/storectl /usr/local/bin/
# The data directory belongs to the image's non-root user (65532), so that
# a new volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/var/lib/cairn /var/lib/cairn
USER 65532:65532
VOLUME /var/lib/cairn
# S3, the operator port (admin API, /metrics), the node API, gossip (TCP
# and UDP), Raft.
EXPOSE 9000 7070 7071 7946 7946/udp 7947
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/storaged"]
CMD ["--dev", "--data", "/var/lib/cairn", "--s3", "0.0.0.0:9000", "--admin", "0.0.0.0:7070"]
