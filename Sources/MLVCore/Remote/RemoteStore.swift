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
import MLVSystem
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
    /// Index files present (names under index/), with their sizes.
    func indexFiles() throws -> [(name: String, size: UInt64)]
    /// Copies `rel` into the new local file `local` and fsyncs it. Returns its size. A file
    /// over `limit` bytes is refused (`RemoteError.damaged`) before it is copied.
    func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64
    /// Stores a local file as `rel`, atomically. Returns the bytes sent.
    func upload(_ local: String, to rel: String) throws -> UInt64
    /// Runs `body` on an open local copy of `rel` (a directory remote's own file, opened as
    /// `download` would; a download into `tmpDir` for object storage, removed afterwards).
    func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T
}

/// No index mlv writes comes near this: 1 GiB is 19 million objects (over a TiB of data)
/// pushed at once. A bigger "index" is not one, and is refused before it is read.
let maxRemoteIndexSize: UInt64 = 1 << 30

/// The whole content of an open file of at most `limit` bytes (checked first).
func readWhole(_ f: FileHandleFD, limit: UInt64) throws -> [UInt8] {
    let size = UInt64(try f.stat().st_size)
    guard size <= limit else { throw IOError("read (\(size) bytes, over the \(limit)-byte limit)", f.path, code: EFBIG) }
    var out = [UInt8](repeating: 0, count: Int(size))
    let n = try out.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
    if n < out.count { out.removeLast(out.count - n) }
    return out
}

/// Where a pack lives on any remote.
func remotePackRel(_ id: ObjectID) -> String { "packs/\(id.hex.prefix(2))/\(id.hex).pack" }

extension RemoteStore {
    func describe(_ rel: String) -> String { "\(location)/\(rel)" }

    func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T {
        let tmp = FS.join(tmpDir, "remote-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(FS.basename(rel))")
        defer { FS.remove(tmp) }
        _ = try download(rel, to: tmp, limit: limit)
        return try body(try FileHandleFD.openRead(tmp))
    }

    /// The refusal of a remote file over `limit` bytes.
    func tooLarge(_ rel: String, size: UInt64, limit: UInt64) -> RemoteError {
        .damaged(remote: name, path: describe(rel), why: "\(size) bytes, more than any file mlv writes there (\(limit))")
    }
}

/// A directory remote (a local path, a shared disk, NFS). Anyone with write access to it
/// can put anything there (symlinks, FIFOs, huge files), so its files are opened in one
/// place (`open`), as regular files only, and listings skip everything else.
struct DirectoryRemote: RemoteStore {
    let name: String
    let root: String
    var location: String { root }
    var parallelism: Int { 4 }

    /// `url` must be absolute: a relative one in a committed mlv.yaml would point every clone
    /// at a different folder, outside any remote (`mlv remote add` stores absolute paths).
    init(name: String, url: String) throws {
        self.name = name
        let path = try DirectoryRemote.path(of: url)
        guard path.hasPrefix("/") else { throw RemoteError.relativeURL(remote: name, url: url) }
        root = path
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
        let path = try DirectoryRemote.path(of: url)
        if path.hasPrefix("/") { return url }
        var parts: [Substring] = []
        for c in (cwd + "/" + path).split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    func prepare(forWriting: Bool) throws {
        guard forWriting else {
            guard FS.isDirectory(root) else { throw RemoteError.unreachable(remote: name, why: "\(root) does not exist; check the path (is the share mounted?), or point the remote elsewhere: `mlv remote remove \(name)` then `mlv remote add \(name) /path/or/url`") }
            return
        }
        for d in ["packs", "index", "tmp"] {
            try checkRealFolder(d)
            do { try FS.makeDirectories(FS.join(root, d)) } catch {
                throw RemoteError.unreachable(remote: name, why: "cannot create \(root)/\(d) (\(error))")
            }
        }
        removeStaleUploads()
    }

    /// Pushes write only into real folders of the remote: a `index` or `packs/XX` that is a
    /// link (planted by whoever else can write the remote) would carry the files elsewhere.
    private func checkRealFolder(_ rel: String) throws {
        if let st = FS.lstat(FS.join(root, rel)), st.st_mode & S_IFMT != S_IFDIR {
            throw RemoteError.damaged(remote: name, path: FS.join(root, rel), why: "not a real folder (\(st.st_mode & S_IFMT == S_IFLNK ? "a symlink" : "a file")); mlv writes only into folders it can vouch for")
        }
    }

    /// Partial files of interrupted pushes are removed once an hour old (a push still running,
    /// from this machine or another, writes younger files). Only what mlv itself names there
    /// (`upload`'s temp names), only regular files, and only in a real tmp folder: a symlinked
    /// tmp or entry is never followed, so nothing outside the remote is ever deleted.
    func removeStaleUploads() {
        let tmp = FS.join(root, "tmp")
        guard let st = FS.lstat(tmp), st.st_mode & S_IFMT == S_IFDIR else { return }
        let hourAgo = realtimeNanoseconds() - 3_600_000_000_000
        for n in (try? FS.list(tmp)) ?? [] where DirectoryRemote.isUploadTempName(n) {
            let path = FS.join(tmp, n)
            if let e = FS.lstat(path), e.st_mode & S_IFMT == S_IFREG, FileStat(e).mtime < hourAgo { FS.remove(path) }
        }
    }

    /// `upload`'s temp names: `<64 hex>.pack|idx.<pid>.<random>`.
    static func isUploadTempName(_ n: String) -> Bool {
        let p = n.split(separator: ".", omittingEmptySubsequences: false)
        return p.count == 4 && ObjectID(hex: p[0]) != nil && (p[1] == "pack" || p[1] == "idx")
            && UInt64(p[2]) != nil && UInt64(p[3]) != nil
    }

    /// The one place a file of this remote is opened for reading: a regular file only, never
    /// through a symlink (`O_NOFOLLOW`), and without blocking on a FIFO or device
    /// (`O_NONBLOCK` for the open, cleared once fstat shows a regular file); at most `limit`
    /// bytes.
    func open(_ rel: String, limit: UInt64) throws -> FileHandleFD {
        let f: FileHandleFD
        do { f = try FileHandleFD.openRead(FS.join(root, rel), regularOnly: true, followLinks: false) } catch let e as IOError where e.isNotRegularFile {
            throw notRegular(rel)
        }
        let st = try f.stat()
        guard UInt64(st.st_size) <= limit else { throw tooLarge(rel, size: UInt64(st.st_size), limit: limit) }
        return f
    }

    private func notRegular(_ rel: String) -> RemoteError {
        .damaged(remote: name, path: describe(rel), why: "not a regular file (a symlink, FIFO, device or folder mlv never writes)")
    }

    /// Regular files named `*<suffix>` in `dir` (nothing else mlv would have written).
    private func regularFiles(in dir: String, suffix: String) throws -> [(String, UInt64)] {
        try FS.list(dir).compactMap { n in
            guard n.hasSuffix(suffix), let st = FS.lstat(FS.join(dir, n)), st.st_mode & S_IFMT == S_IFREG else { return nil }
            return (n, UInt64(st.st_size))
        }
    }

    func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        let dir = FS.join(root, "packs")
        guard FS.isDirectory(dir) else { return [:] }
        for sub in try FS.list(dir) {
            guard let st = FS.lstat(FS.join(dir, sub)), st.st_mode & S_IFMT == S_IFDIR else { continue }
            for (f, size) in try regularFiles(in: FS.join(dir, sub), suffix: ".pack") {
                if let id = ObjectID(hex: f.dropLast(5)), remotePackRel(id) == "packs/\(sub)/\(f)" { out[id] = size }
            }
        }
        return out
    }

    func indexFiles() throws -> [(name: String, size: UInt64)] {
        let dir = FS.join(root, "index")
        guard FS.isDirectory(dir) else { return [] }
        return try regularFiles(in: dir, suffix: ".idx").map { (name: $0.0, size: $0.1) }.sorted { $0.name < $1.name }
    }

    func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        let src = try open(rel, limit: limit)
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
        try checkRealFolder(FS.dirname(rel))
        if !FS.isDirectory(dir) { try FS.makeDirectories(dir) }
        // The name `removeStaleUploads` recognises.
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

    func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T {
        try body(try open(rel, limit: limit))
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
        if let e = endpoint { try S3Remote.checkTransport(remote: name, endpoint: e) }
        do {
            let region = environment.region()
            let location = try S3Location(url: url, endpoint: endpoint ?? environment.endpoint(), region: region)
            client = S3Client(location: location, credentials: try environment.credentials(), region: region)
        } catch let e as S3Error {
            throw RemoteError.unreachable(remote: name, why: e.description)
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

    /// S3 failures become one-line errors that name the remote.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as S3Error { throw RemoteError.unreachable(remote: name, why: e.description) }
    }

    /// One listing proves the endpoint answers, the credentials sign and the bucket exists.
    func prepare(forWriting: Bool) throws { _ = try indexFiles() }

    func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        for (key, size) in try mapped({ try client.list("packs") }) where key.hasSuffix(".pack") {
            if let id = ObjectID(hex: FS.basename(key).dropLast(5)), key == remotePackRel(id) { out[id] = size }
        }
        return out
    }

    func indexFiles() throws -> [(name: String, size: UInt64)] {
        try mapped { try client.list("index") }.filter { $0.key.hasSuffix(".idx") && FS.dirname($0.key) == "index" }
            .map { (name: FS.basename($0.key), size: $0.size) }.sorted { $0.name < $1.name }
    }

    /// `limit` is checked against the listing's sizes by the callers (`indexFiles`) before
    /// anything is downloaded; an object that grew since is refused here too.
    func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        let out = try FileHandleFD.create(local)
        do {
            let n = try mapped { try client.get(rel, to: out) }
            guard n <= limit else { throw tooLarge(rel, size: n, limit: limit) }
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
