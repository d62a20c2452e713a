// `mlv remote add|list|remove`: the remotes named in mlv.yaml, and their JSON form.
import ArgumentParser
import MLVCore

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Manage remotes that share the store (kept in mlv.yaml, without credentials).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a remote: a directory (local path, shared disk, NFS), file:// URL, or s3://BUCKET[/PREFIX].",
            discussion: """
            The first remote added is the default for push, fetch and pull. The name, URL and \
            endpoint go into mlv.yaml (committed, so clones know them); credentials never do.

            S3 and S3-compatible servers (MinIO, Ceph, R2, ...): credentials are found the \
            AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else the \
            profile AWS_PROFILE (default "default") in ~/.aws/credentials; the region from \
            AWS_REGION, AWS_DEFAULT_REGION or ~/.aws/config (default us-east-1). Without \
            --endpoint, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is used if set, else AWS.

            Examples:
              mlv remote add origin /mnt/team/mlv-store
              mlv remote add local ~/mlv-remote --create    # make the folder
              mlv remote add backup file:///srv/mlv --default
              mlv remote add s3 s3://ml-data/projects/churn
              mlv remote add minio s3://mlv --endpoint http://127.0.0.1:9000
            """)
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The remote's name.") var name: String
        @Argument(help: "Where it is.") var url: String
        @Option(help: "Endpoint of an S3-compatible server (for s3:// URLs).") var endpoint: String?
        @Flag(help: "Make it the default remote.") var `default` = false
        @Flag(help: "Create the folder of a directory remote if it does not exist (without it, a missing folder is refused: likely a typo or an unmounted share).")
        var create = false
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            let ws = try repo.open()
            try ws.addRemote(name, url: url, endpoint: endpoint, makeDefault: `default`, create: create)
            if json, let r = RemoteJSON.all(ws.config).first(where: { $0.name == name }) { try Out.json(r); return }
            Out.line("remote \(name) added (\(url))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List remotes.")
        @OptionGroup var repo: RepoOptions
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            let c = try repo.open().config
            if json { try Out.json(RemoteJSON.all(c)); return }
            for n in c.remotes.keys.sorted() { Out.line("\(n)\t\(c.remotes[n]!.url)\(c.defaultRemote == n ? "\t(default)" : "")") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a remote from mlv.yaml (its data is left alone).")
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The remote's name.") var name: String
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var output: QuietOption

        func run() throws {
            output.apply()
            let ws = try repo.open()
            let was = RemoteJSON.all(ws.config).first { $0.name == name }
            try ws.removeRemote(name)
            if json, let r = was { try Out.json(r); return }
            Out.line("remote \(name) removed")
        }
    }
}

/// A remote in JSON, as `remote list`, `remote add` and `remote remove` print it.
struct RemoteJSON: Encodable {
    let name: String
    let url: String
    let isDefault: Bool

    enum CodingKeys: String, CodingKey { case name, url, isDefault = "default" }

    static func all(_ c: Config) -> [RemoteJSON] {
        c.remotes.keys.sorted().compactMap { n in c.remotes[n].map { RemoteJSON(name: n, url: $0.url, isDefault: c.defaultRemote == n) } }
    }
}
