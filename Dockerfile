# syntax=docker/dockerfile:1
# Build: a static binary with the time-zone database embedded (time/tzdata),
# so an old zone file in any base image cannot put Kazakhstan on +6.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags="-s -w" -o /out/socialwallet ./cmd/socialwallet

# Run: nothing but the binary, as an unprivileged user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/socialwallet /usr/local/bin/socialwallet
USER nonroot:nonroot
ENV HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/socialwallet", "health"]
ENTRYPOINT ["/usr/local/bin/socialwallet"]
CMD ["serve"]
