import CallVaultObjects
import CallVaultStore
import Foundation

/// Where a data directory's sealed files (`recordings/`, `transcripts/`) live when not in the directory
/// itself: `DIR/objects.json`, written by `callvault init --objects` (mode 0600, no secret).
///
/// Two kinds:
/// - a **directory** (`--objects /mnt/shared`): several nodes each have a data directory of their own and
///   share one catalog (PostgreSQL) and one objects directory (an NFS mount, say). The catalog keeps
///   every file's path relative to it, so each node may mount it at its own path.
/// - a **bucket** over the S3 API (`--objects s3://BUCKET/PREFIX`): each node writes sealed files to its
///   own data directory (the spool) and uploads them when they are closed; every node reads them from
///   the bucket. The catalog's relative path is the object key (under the prefix).
struct ObjectsSettings: Codable, Equatable, Sendable {
    static let fileName = "objects.json"

    var version = 1
    /// The objects directory, an absolute path; nil for a bucket.
    var directory: String?
    /// The bucket; nil for a directory.
    var s3: S3Settings?

    /// A bucket over the S3 API and how to reach it. Credentials are never here: they come from
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` or the 0600 file named.
    struct S3Settings: Codable, Equatable, Sendable {
        var bucket: String
        /// Empty, or ending in `/`.
        var prefix: String
        var endpoint: String
        var region: String
        /// `ENDPOINT/BUCKET` addressing (MinIO, Ceph RGW, most self-hosted stores); else `BUCKET.ENDPOINT`.
        var pathStyle: Bool
        /// A file (mode 0600) with the credentials; nil: the environment.
        var credentialsFile: String?
        /// Ask for SSE-KMS on every write: the key id, or `default` for the bucket's default KMS key.
        var kmsKeyID: String?
        /// A PEM file of a private CA that signs the endpoint's certificate.
        var caFile: String?

        var location: String { "s3://\(bucket)/\(prefix)" }

        var configuration: S3ObjectStore.Configuration {
            S3ObjectStore.Configuration(
                endpoint: endpoint, region: region, bucket: bucket, prefix: prefix,
                addressing: pathStyle ? .path : .virtualHost,
                serverSideEncryption: kmsKeyID.map { .kms(keyID: $0 == "default" ? nil : $0) },
                caCertificateFile: caFile)
        }

        /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX` (the prefix gets its trailing `/`).
        static func parse(_ url: String) -> (bucket: String, prefix: String)? {
            guard url.hasPrefix("s3://") else { return nil }
            let rest = url.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            var prefix = String(rest.dropFirst(bucket.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard !bucket.isEmpty else { return nil }
            if !prefix.isEmpty { prefix += "/" }
            return (bucket, prefix)
        }

        /// Opens the store with the credentials of the file or the environment.
        func open() throws -> S3ObjectStore {
            do throws(ObjectStoreError) {
                let credentials: AWSCredentials
                if let credentialsFile {
                    credentials = try AWSCredentials.fromFile(credentialsFile)
                } else {
                    credentials = try AWSCredentials.fromEnvironment()
                }
                return try S3ObjectStore(configuration, credentials: credentials)
            } catch {
                throw CLIError.failure(
                    "cannot open the object store \(location): \(error.message)",
                    hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or give --s3-credentials-file at init)")
            }
        }
    }

    static func path(in dataDirectory: String) -> String { dataDirectory + "/" + fileName }

    /// Where the settings say sealed files are, for messages.
    var location: String { s3?.location ?? directory ?? "" }

    /// The directory's settings, or nil when it has no `objects.json`.
    static func read(dataDirectory: String) throws -> ObjectsSettings? {
        let path = path(in: dataDirectory)
        guard let data = try PrivateFile.readSettings(path, writtenBy: "callvault init --objects") else { return nil }
        guard let settings = try? JSONDecoder().decode(ObjectsSettings.self, from: data),
            (settings.directory != nil) != (settings.s3 != nil), settings.directory?.hasPrefix("/") ?? true
        else {
            throw CLIError.failure("\(path) is not an objects file CallVault can read", hint: "restore it from your configuration")
        }
        guard settings.version == 1 else {
            throw CLIError.failure("\(path) has version \(settings.version); this callvault reads version 1")
        }
        return settings
    }

    /// Writes the file with mode 0600, atomically.
    func write(dataDirectory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try PrivateFile.writeAtomically(
            Array(try encoder.encode(self)) + [0x0A], to: Self.path(in: dataDirectory), in: dataDirectory)
    }
}
