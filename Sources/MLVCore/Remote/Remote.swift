// Remote — sharing the store: a remote holds the same layout as a local store (MLVStore's
// Layout), reached through a Transport (RemoteStore.swift). This file holds the remotes of a
// workspace (mlv.yaml's `remotes`, `mlv remote add/remove`), the cache of remote indexes, the
// user-facing errors and the transfer's result. The operations are their own types: `Push`
// (Push.swift), `Fetch` (Fetch.swift), over the snapshots `Roots` (Roots.swift) names; what
// is copied, in which order, is MLVStore's `Sync`.
import MLVSystem
import MLVS3
import MLVStore

public enum RemoteError: Error, CustomStringConvertible, Equatable {
    case unknownRemote(String, known: [String])
    case noRemote
    case unsupportedURL(String)
    case unreachable(remote: String, why: String)
    /// Objects the remote should hold and lacks: `targets` whose data they are, `commits`
    /// (short ids) pinning them, none when only working-tree pointers named them.
    case missingOnRemote(remote: String, count: Int, targets: [String], commits: [String])
    /// A relative directory URL read from mlv.yaml.
    case relativeURL(remote: String, url: String)
    /// A file on the remote that is not what mlv wrote there (wrong content, wrong kind of
    /// file, impossible size): integrity, like a damaged local store.
    case damaged(remote: String, path: String, why: String)
    /// Data a command needs that this clone's store lacks and the command may not fetch
    /// (--offline, no remote, or a command that does not fetch): `what` names the targets
    /// and revisions, `fix` the exact command that brings them (FetchMissing.swift).
    case notFetched(what: String, fix: String)

    public var description: String {
        switch self {
        case .unknownRemote(let n, let known):
            return "no remote \(n.debugDescription)" + (known.isEmpty ? "; add one with `mlv remote add NAME URL`" : "; remotes are \(known.joined(separator: ", "))")
        case .noRemote:
            return "no remote configured; add one with `mlv remote add origin /path/or/url`"
        case .unsupportedURL(let u):
            return "\(u.debugDescription) is not a remote URL mlv can use (a local path, file://PATH or s3://BUCKET[/PREFIX])"
        case .unreachable(let r, let why):
            return "remote \(r): \(why)"
        case .missingOnRemote(let r, let n, let targets, let commits):
            let of = targets.isEmpty ? "" : " of " + targets.prefix(3).joined(separator: ", ") + (targets.count > 3 ? " and \(targets.count - 3) more" : "")
            let at = commits.isEmpty ? "" : " at " + commits.prefix(3).joined(separator: ", ") + (commits.count > 3 ? " and \(commits.count - 3) more commits" : "")
            // The remote's name is the same in every clone (mlv.yaml is committed).
            let fix: String
            if commits.isEmpty {
                fix = "in the clone that has the data, run `mlv push \(r)`"
            } else if commits.count <= 3 {
                fix = "in the clone that committed it, run `mlv push \(r) " + commits.map { "--rev \($0)" }.joined(separator: " ") + "` (or `mlv push \(r) --all-commits` for every commit)"
            } else {
                fix = "in the clone that committed it, run `mlv push \(r) --all-commits`"
            }
            return "remote \(r) lacks \(counted(n, "object")) the pointers need (the data\(of)\(at)); \(fix)"
        case .relativeURL(let r, let u):
            return "remote \(r): url \(u.debugDescription) in mlv.yaml is a relative path, which would name a different folder in every clone; give it an absolute one: `mlv remote remove \(r)` then `mlv remote add \(r) /absolute/path`"
        case .damaged(let r, let path, let why):
            return "remote \(r): \(path): \(why); the remote is damaged: check it with `mlv fsck --remote \(r)` and push again from a clone that has the data"
        case .notFetched(let what, let fix):
            return "the data of \(what) is not in the local store; \(fix)"
        }
    }
}

public struct TransferResult: Codable, Sendable {
    public var remote: String
    public var packs: Int            // packs transferred
    public var bytes: UInt64         // bytes transferred
    public var alreadyThere: Int     // packs the other side had
    public var alreadyThereBytes: UInt64?  // their size (push)
    public var objects: Int          // objects the pointers need

    enum CodingKeys: String, CodingKey {
        case remote, packs, bytes, objects
        case alreadyThere = "already_there"
        case alreadyThereBytes = "already_there_bytes"
    }
}

extension Workspace {
    func remote(_ name: String?) throws -> RemoteStore {
        guard let n = name ?? config.defaultRemote ?? (config.remotes.count == 1 ? config.remotes.keys.first : nil) else {
            throw RemoteError.noRemote
        }
        guard let r = config.remotes[n] else { throw RemoteError.unknownRemote(n, known: config.remotes.keys.sorted()) }
        return try RemoteStore(name: n, url: r.url, endpoint: r.endpoint)
    }

    /// `mlv remote add`: the first remote becomes the default. A directory typed as a relative
    /// path is stored absolute (relative to where the command runs), as every clone must
    /// find the same folder.
    /// A directory that does not exist is refused unless `create`: a typo or an unmounted
    /// share would otherwise become a new, empty remote on the local disk.
    public func addRemote(_ name: String, url typed: String, endpoint: String?, makeDefault: Bool, create: Bool = false) throws {
        var url = typed
        guard Config.isValidName(name) else {
            throw MLVError.invalidArgument("remote names use letters, digits, '-' and '_'")
        }
        if url.hasPrefix("s3://") {
            // Checked for form only: credentials belong to whoever pushes, not to the config.
            do { _ = try S3Location(url: url, endpoint: endpoint, region: "us-east-1") } catch let e as S3Error {
                throw MLVError.invalidArgument(e.description)
            }
        } else {
            guard endpoint == nil else { throw MLVError.invalidArgument("--endpoint is for s3:// remotes") }
            url = try RemoteStore.absoluteURL(typed, cwd: cwd)
            let root = try RemoteStore.directory(name: name, url: url)
            if !FS.isDirectory(root) {
                guard create else {
                    throw MLVError.invalidArgument("\(root) does not exist; check the path (is the share mounted?), or add --create to make the folder")
                }
                try FS.makeDirectories(root)
            }
        }
        if config.remotes[name] != nil { throw MLVError.invalidArgument("remote \(name) exists; remove it first with `mlv remote remove \(name)`") }
        config.remotes[name] = RemoteSettings(url: url, endpoint: endpoint)
        if makeDefault || config.defaultRemote == nil { config.defaultRemote = name }
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }

    public func removeRemote(_ name: String) throws {
        guard config.remotes[name] != nil else { throw RemoteError.unknownRemote(name, known: config.remotes.keys.sorted()) }
        config.remotes[name] = nil
        if config.defaultRemote == name { config.defaultRemote = config.remotes.keys.sorted().first }
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }

    /// The remote's indexes (`Sync.indexes`), cached in .mlv/cache/remote-index.
    func remoteIndexes(_ r: RemoteStore, store: Store, strict: Bool) throws -> [DecodedIndex] {
        try r.mapped { try Sync.indexes(of: r, store: store, cacheDir: remoteIndexCache, strict: strict) }
    }

    /// Verified copies of remote index files (immutable, named by their hash).
    var remoteIndexCache: String { FS.join(mlvDir, "cache/remote-index") }
}

extension RemoteError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missingOnRemote, .damaged, .notFetched: return .integrity
        case .unknownRemote, .noRemote, .unsupportedURL, .unreachable, .relativeURL: return .input
        }
    }
}
