// RemoteStore — the two kinds of remote behind one small interface. Both hold the layout of
// a local store, minus anything mutable:
//
//   packs/<first 2 hex>/<pack id>.pack    immutable; named by the hash of their headers
//   index/<sha256 of the file>.idx        immutable; lists objects of packs already uploaded
//   tmp/                                  directory remotes only: partial uploads
//
// Every file is written once under its final name, atomically (temp + fsync + rename on a
// disk; a single PUT or completed multipart upload on S3), and never changed: two clones
// pushing at once can only write identical bytes under the same name.
import Foundation
import Glibc
import MLVS3
import MLVStore
import Synchronization

protocol RemoteStore: Sendable {
    var name: String { get }
    /// A path or an s3:// URL, for messages.
    var location: String { get }
    /// Transfers worth running at once: a disk wants few, object storage many.
    var parallelism: Int { get }
    /// Fails with a one-line `RemoteError` when the remote cannot be used; for writing, a
    /// directory remote's folders are created.
    func prepare(forWriting: Bool) throws
    /// Pack files present, with their sizes.
    func packFiles() throws -> [ObjectID: UInt64]
    func indexNames() throws -> [String]
    /// Copies `rel` into the new local file `local` and fsyncs it. Returns its size.
    func download(_ rel: String, to local: String) throws -> UInt64
    /// Stores a local file as `rel`, atomically. Returns the bytes sent.
    func upload(_ local: String, to rel: String) throws -> UInt64
    /// Runs `body` on a local copy of `rel` (a directory remote's own file; a download into
    /// `tmpDir` for object storage, removed afterwards).
    func withLocalCopy<T>(_ rel: String, tmpDir: String, _ body: (String) throws -> T) throws -> T
}

/// Where a pack lives on any remote.
func remotePackRel(_ id: ObjectID) -> String { "packs/\(id.hex.prefix(2))/\(id.hex).pack" }

extension RemoteStore {
    func describe(_ rel: String) -> String { "\(location)/\(rel)" }

    func withLocalCopy<T>(_ rel: String, tmpDir: String, _ body: (String) throws -> T) throws -> T {
        let tmp = FS.join(tmpDir, "remote-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(FS.basename(rel))")
        defer { FS.remove(tmp) }
        _ = try download(rel, to: tmp)
        return try body(tmp)
    }
}

/// A directory remote (a local path, a shared disk, NFS).
struct DirectoryRemote: RemoteStore {
    let name: String
    let root: String
    var location: String { root }
    var parallelism: Int { 4 }

    init(name: String, url: String, base: String) throws {
        self.name = name
        var path = url
        if path.hasPrefix("file://") { path = String(path.dropFirst(7)) }
        guard !path.contains("://") else { throw RemoteError.unsupportedURL(url) }
        root = path.hasPrefix("/") ? path : FS.join(base, path)
    }

    func prepare(forWriting: Bool) throws {
        guard forWriting else {
            guard FS.isDirectory(root) else { throw RemoteError.unreachable(remote: name, why: "\(root) does not exist") }
            return
        }
        for d in ["packs", "index", "tmp"] {
            do { try FS.makeDirectories(FS.join(root, d)) } catch {
                throw RemoteError.unreachable(remote: name, why: "cannot create \(root)/\(d) (\(error))")
            }
        }
        // Partial files of interrupted pushes: removed once an hour old (a push still
        // running, from this machine or another, writes younger files).
        let tmp = FS.join(root, "tmp")
        let hourAgo = realtimeNanoseconds() - 3_600_000_000_000
        for n in (try? FS.list(tmp)) ?? [] {
            if let st = FS.lstat(FS.join(tmp, n)), FileStat(st).mtime < hourAgo { FS.remove(FS.join(tmp, n)) }
        }
    }

    func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        let dir = FS.join(root, "packs")
        guard FS.isDirectory(dir) else { return [:] }
        for sub in try FS.list(dir) {
            for f in try FS.list(FS.join(dir, sub)) where f.hasSuffix(".pack") {
                if let id = ObjectID(hex: f.dropLast(5)), let st = FS.lstat(FS.join(dir, "\(sub)/\(f)")) { out[id] = UInt64(st.st_size) }
            }
        }
        return out
    }

    func indexNames() throws -> [String] {
        let dir = FS.join(root, "index")
        guard FS.isDirectory(dir) else { return [] }
        return try FS.list(dir).filter { $0.hasSuffix(".idx") }.sorted()
    }

    func download(_ rel: String, to local: String) throws -> UInt64 {
        let src = try FileHandleFD.openRead(FS.join(root, rel))
        let size = UInt64(try src.stat().st_size)
        let out = try FileHandleFD.create(local)
        do {
            try FS.copyRange(from: src, at: 0, count: size, to: out)
            try out.sync()
        } catch {
            FS.remove(local)
            throw error
        }
        return size
    }

    /// Copied into tmp/, fsynced, renamed into place: the remote shows whole files or none.
    func upload(_ local: String, to rel: String) throws -> UInt64 {
        let dest = FS.join(root, rel)
        let dir = FS.dirname(dest)
        if !FS.isDirectory(dir) { try FS.makeDirectories(dir) }
        let tmp = FS.join(root, "tmp/\(FS.basename(rel)).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        let src = try FileHandleFD.openRead(local)
        let size = UInt64(try src.stat().st_size)
        do {
            let out = try FileHandleFD.create(tmp)
            try FS.copyRange(from: src, at: 0, count: size, to: out)
            try out.sync()
            try FS.rename(tmp, dest)
        } catch {
            FS.remove(tmp)
            throw error
        }
        return size
    }

    func withLocalCopy<T>(_ rel: String, tmpDir: String, _ body: (String) throws -> T) throws -> T {
        try body(FS.join(root, rel))
    }
}

/// An S3 bucket and prefix, on AWS or an S3-compatible server (MinIO, Ceph, R2, moto).
struct S3Remote: RemoteStore {
    let name: String
    let client: S3Client
    var location: String { client.location.url }
    /// Requests to object storage are latency-bound: eight in flight keep a link busy.
    var parallelism: Int { 8 }

    init(name: String, url: String, endpoint: String?, environment: AWSEnvironment = .current()) throws {
        self.name = name
        do {
            let region = environment.region()
            let location = try S3Location(url: url, endpoint: endpoint ?? environment.endpoint(), region: region)
            client = S3Client(location: location, credentials: try environment.credentials(), region: region)
        } catch let e as S3Error {
            throw RemoteError.unreachable(remote: name, why: e.description)
        }
    }

    /// S3 failures become one-line errors that name the remote.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as S3Error { throw RemoteError.unreachable(remote: name, why: e.description) }
    }

    /// One listing proves the endpoint answers, the credentials sign and the bucket exists.
    func prepare(forWriting: Bool) throws { _ = try indexNames() }

    func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        for (key, size) in try mapped({ try client.list("packs") }) where key.hasSuffix(".pack") {
            if let id = ObjectID(hex: FS.basename(key).dropLast(5)), key == remotePackRel(id) { out[id] = size }
        }
        return out
    }

    func indexNames() throws -> [String] {
        try mapped { try client.list("index") }.map(\.key).filter { $0.hasSuffix(".idx") && FS.dirname($0) == "index" }
            .map { FS.basename($0) }.sorted()
    }

    func download(_ rel: String, to local: String) throws -> UInt64 {
        let out = try FileHandleFD.create(local)
        do {
            let n = try mapped { try client.get(rel, to: out) }
            try out.sync()
            return n
        } catch {
            FS.remove(local)
            throw error
        }
    }

    func upload(_ local: String, to rel: String) throws -> UInt64 {
        try mapped { try client.put(local, as: rel) }
    }
}

/// Runs `body` for every item on up to `workers` threads (transfers wait on the network or
/// the disk, not the CPU, so more threads than cores pay). The calling thread calls `tick`
/// ten times a second, so progress is drawn from one thread. After a failure no new item
/// starts; the first error is thrown once the running ones end.
func inParallel<T: Sendable>(_ items: [T], workers: Int, tick: () -> Void = {}, _ body: @escaping @Sendable (T) throws -> Void) throws {
    guard !items.isEmpty else { return }
    let queue = WorkQueue(items)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(workers, items.count)) {
        group.enter()
        let t = Thread {
            while let item = queue.take() {
                do { try body(item) } catch { queue.fail(error) }
            }
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }
    while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut { tick() }
    tick()
    if let e = queue.state.withLock({ $0.error }) { throw e }
}

/// Items handed out to worker threads one at a time; the first failure stops the handing out.
private final class WorkQueue<T: Sendable>: Sendable {
    let items: [T]
    let state = Mutex<(next: Int, error: (any Error)?)>((0, nil))
    init(_ items: [T]) { self.items = items }

    func take() -> T? {
        state.withLock { s in
            guard s.error == nil, s.next < items.count else { return nil }
            s.next += 1
            return items[s.next - 1]
        }
    }

    func fail(_ e: any Error) { state.withLock { if $0.error == nil { $0.error = e } } }
}

/// A byte count shared by transfer threads and read by the progress line.
final class Tally: Sendable {
    private let value = Atomic<UInt64>(0)
    func add(_ n: UInt64) { value.add(n, ordering: .relaxed) }
    var total: UInt64 { value.load(ordering: .relaxed) }
}
