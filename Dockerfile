# Build: docker build -t cardflow .
# Run:   docker run -v cardflow-data:/data -v $PWD/config.toml:/etc/cardflow/config.toml:ro \
#          -e CARDFLOW_MASTER_KEY -e CARDFLOW_ADMIN_TOKEN -e CARDFLOW_SHOP1_SECRET -p 8080:8080 cardflow
# The config must set data_dir = "/data" and [api] listen = "0.0.0.0:8080".
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cardflow ./cmd/cardflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cardflow /usr/local/bin/cardflow
USER nonroot:nonroot
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/cardflow"]
CMD ["serve", "-config", "/etc/cardflow/config.toml"]
