// RemoteStore — a remote as mlv.yaml names it: its name, and the transport (MLVRemote) that
// reaches it. What a remote must do is MLVStore's `Transport`; what push and fetch copy is
// MLVStore's `Sync`. This file holds what is mlv's own: reading remote URLs from the config,
// the rule on plain-http endpoints, and turning transport failures into `RemoteError`s that
// name the remote and the command that fixes them.
import MLVSystem
import Glibc
import MLVRemote
import MLVS3
import MLVStore

/// A named remote. Every call to its transport is mapped (`mapped`): failures come out as
/// `RemoteError`s naming the remote, as users see them.
struct RemoteStore: Transport {
    let name: String
    let transport: any Transport

    var location: String { transport.location }
    var parallelism: Int { transport.parallelism }

    /// The transport a URL of mlv.yaml names: s3://BUCKET[/PREFIX], or a folder.
    init(name: String, url: String, endpoint: String?) throws {
        self.name = name
        if url.hasPrefix("s3://") {
            transport = try RemoteStore.s3(name: name, url: url, endpoint: endpoint)
        } else {
            transport = DirectoryTransport(root: try RemoteStore.directory(name: name, url: url))
        }
    }

    init(name: String, transport: any Transport) {
        self.name = name
        self.transport = transport
    }

    /// `url` must be absolute: a relative one in a committed mlv.yaml would point every clone
    /// at a different folder, outside any remote (`mlv remote add` stores absolute paths).
    static func directory(name: String, url: String) throws -> String {
        let path = try RemoteStore.path(of: url)
        guard path.hasPrefix("/") else { throw RemoteError.relativeURL(remote: name, url: url) }
        return path
    }

    /// The path a directory URL names (a path, or file://PATH).
    static func path(of url: String) throws -> String {
        var path = url
        if path.hasPrefix("file://") {
            path = String(path.dropFirst(7))
            // file:///abs/path only: `file://host/path` names another machine, not a folder here.
            guard path.hasPrefix("/") else { throw RemoteError.unsupportedURL(url) }
        }
        guard !path.contains("://"), !path.isEmpty else { throw RemoteError.unsupportedURL(url) }
        return path
    }

    /// What `mlv remote add` stores for a path typed relative to `cwd`: absolute, with "."
    /// and ".." resolved by name (symlinks are kept: they are the user's choice).
    static func absoluteURL(_ url: String, cwd: String) throws -> String {
        let path = try RemoteStore.path(of: url)
        if path.hasPrefix("/") { return url }
        var parts: [Substring] = []
        for c in (cwd + "/" + path).split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func s3(name: String, url: String, endpoint: String?, environment: AWSEnvironment = .current()) throws -> S3Transport {
        if let e = endpoint { try checkTransport(remote: name, endpoint: e) }
        do {
            let region = environment.region()
            let location = try S3Location(url: url, endpoint: endpoint ?? environment.endpoint(), region: region)
            var client = S3Client(location: location, credentials: try environment.credentials(), region: region)
            // MLV_HTTP_TRACE=1 prints each request and response header to stderr, for
            // debugging a server that disagrees (the session token redacted).
            client.trace = getenv("MLV_HTTP_TRACE").map { String(cString: $0) == "1" } ?? false
            return S3Transport(client: client)
        } catch let e as S3Error {
            throw RemoteError.unreachable(remote: name, why: RemoteStore.why(e))
        }
    }

    /// An endpoint from the committed mlv.yaml is the repository author's choice, and every
    /// request carries the user's access key id (and session token): over plain http they
    /// would cross the network readable by anyone on the way. http is accepted for a loopback
    /// server (a local MinIO, the tests' moto), or when the user says so with
    /// MLV_S3_ALLOW_HTTP=1 in the environment.
    static func checkTransport(remote: String, endpoint: String) throws {
        guard endpoint.lowercased().hasPrefix("http://") else { return }
        let hostPort = endpoint.dropFirst(7).split(separator: "/").first.map(String.init) ?? ""
        let host = hostPort.hasPrefix("[") ? String(hostPort.prefix { $0 != "]" }.dropFirst()) : String(hostPort.split(separator: ":").first ?? "")
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if loopback || getenv("MLV_S3_ALLOW_HTTP").map({ String(cString: $0) }) == "1" { return }
        throw RemoteError.unreachable(remote: remote, why: "endpoint \(endpoint) is plain http: mlv sends your AWS credentials only over https (or to this machine); use https, or set MLV_S3_ALLOW_HTTP=1 if this network is yours")
    }

    /// An S3 failure as users read it, with the fix when mlv has one.
    static func why(_ e: S3Error) -> String {
        if case .service(_, "NoSuchBucket", _, _) = e {
            return "\(e) (create it, or point the remote at another with `mlv remote remove` and `mlv remote add`)"
        }
        return e.description
    }

    /// The error users see for a failure of this remote's transport (or of a check of what
    /// it holds): named after the remote, with the fix.
    func userError(_ e: any Error) -> any Error {
        switch e {
        case let t as TransportError:
            switch t {
            case .unreachable(let why): return RemoteError.unreachable(remote: name, why: why)
            case .missingRoot(let path):
                return RemoteError.unreachable(remote: name, why: "\(path) does not exist; check the path (is the share mounted?), or point the remote elsewhere: `mlv remote remove \(name)` then `mlv remote add \(name) /path/or/url`")
            case .damaged(let path, let why): return RemoteError.damaged(remote: name, path: path, why: why)
            }
        case let s as S3Error: return RemoteError.unreachable(remote: name, why: RemoteStore.why(s))
        default: return e
        }
    }

    /// Runs `body`, mapping what it throws through `userError`.
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw userError(error) }
    }

    func prepare(forWriting: Bool) throws { try mapped { try transport.prepare(forWriting: forWriting) } }
    func packFiles() throws -> [ObjectID: UInt64] { try mapped { try transport.packFiles() } }
    func indexFiles() throws -> [(name: String, size: UInt64)] { try mapped { try transport.indexFiles() } }
    func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        try mapped { try transport.download(rel, to: local, limit: limit) }
    }
    func upload(_ local: String, to rel: String) throws -> UInt64 { try mapped { try transport.upload(local, to: rel) } }
    func delete(_ rel: String) throws { try mapped { try transport.delete(rel) } }
    /// Errors of the copy are mapped; those of `body` (checks of the copy) are the caller's.
    func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T {
        let result: Result<T, any Error> = try mapped {
            try transport.withLocalCopy(rel, tmpDir: tmpDir, limit: limit) { f in Result { try body(f) } }
        }
        return try result.get()
    }
}
