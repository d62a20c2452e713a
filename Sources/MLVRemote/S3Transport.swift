// S3Transport — a remote in an S3 bucket and prefix, on AWS or an S3-compatible server
// (MinIO, Ceph, R2, moto). S3 failures pass through as `S3Error` for the caller to name.
import MLVSystem
import MLVS3
import MLVStore

public struct S3Transport: Transport {
    public let client: S3Client
    public var location: String { client.location.url }
    /// Requests to object storage are latency-bound: eight in flight keep a link busy.
    public var parallelism: Int { 8 }

    public init(client: S3Client) { self.client = client }

    /// One listing proves the endpoint answers, the credentials sign and the bucket exists.
    public func prepare(forWriting: Bool) throws { _ = try indexFiles() }

    public func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        for (key, size) in try client.list(Layout.packsDir) {
            if let id = Layout.packID(rel: key) { out[id] = size }
        }
        return out
    }

    public func indexFiles() throws -> [(name: String, size: UInt64)] {
        try client.list(Layout.indexDir).compactMap { k in Layout.indexName(rel: k.key).map { (name: $0, size: k.size) } }
            .sorted { $0.name < $1.name }
    }

    /// `limit` is checked against the listing's sizes by the callers before anything is
    /// downloaded; an object that grew since is refused here too.
    public func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        let out = try FileHandleFD.create(local)
        do {
            let n = try client.get(rel, to: out)
            guard n <= limit else { throw tooLarge(rel, size: n, limit: limit) }
            try out.sync()
            return n
        } catch {
            FS.remove(local)
            throw error
        }
    }

    public func upload(_ local: String, to rel: String) throws -> UInt64 {
        try client.put(local, as: rel)
    }

    public func delete(_ rel: String) throws { try client.delete(rel) }
}
