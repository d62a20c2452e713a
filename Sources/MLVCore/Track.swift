// `mlv track` / `mlv untrack`: the operation (`Track`) and what it reports per path.
import MLVSystem
import Glibc
import MLVStore

public struct TrackedItem: Codable, Equatable, Sendable {
    public enum Storage: String, Codable, Sendable { case mlv, git }

    public var path: String
    public var kind: TargetKind
    /// Where the content is kept: the store ("mlv") or git (metrics and params).
    public var storage: Storage
    public var alreadyTracked: Bool

    enum CodingKeys: String, CodingKey {
        case path, kind, storage
        case alreadyTracked = "already_tracked"
    }
}

/// `mlv track` and `mlv untrack`: which paths mlv versions, recorded in pointer files (data)
/// or mlv.yaml (metrics and params kept in git).
public struct Track {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv track`: starts tracking files or directories. Tracking a tracked path is a no-op.
    public func track(_ inputs: [String], kind: TargetKind?) throws -> [TrackedItem] {
        let lock = try ws.lock("track") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let existing = try ws.targets()
        var gitPaths: [String]? = nil
        var out: [TrackedItem] = []
        var toStage: [String] = []
        var configChanged = false
        for input in inputs {
            let rel = try ws.userPath(input)
            try ws.tree.checkParents(ws.absolute(rel))
            guard let st = FS.lstat(ws.absolute(rel)) else { throw MLVError.noSuchPath(input) }
            let mode = st.st_mode & S_IFMT
            guard mode == S_IFREG || mode == S_IFDIR else {
                if mode == S_IFLNK {
                    throw MLVError.invalidArgument("\(rel) is a symlink; track the file or directory it points to instead")
                }
                throw MLVError.unsupportedFileType(rel)
            }
            if rel.hasSuffix(Pointer.suffix) || rel == Config.fileName {
                throw MLVError.invalidArgument("\(rel) is an mlv file itself; track the data it describes instead")
            }
            if let t = existing.first(where: { $0.path == rel }) {
                out.append(TrackedItem(path: rel, kind: t.pointer.kind, storage: .mlv, alreadyTracked: true))
                continue
            }
            if let t = existing.first(where: { RepoPath.isWithin(rel, $0.path) || RepoPath.isWithin($0.path, rel) }) {
                throw MLVError.nestedTarget(rel, inside: t.path)
            }
            let k = kind ?? ws.config.gitKind(of: rel) ?? TargetKind.infer(path: rel, isDirectory: mode == S_IFDIR)
            if k.livesInGit {
                guard mode == S_IFREG else {
                    throw MLVError.invalidArgument("\(rel) is a directory; --kind \(k.rawValue) takes a single file that stays in git")
                }
                let already = ws.config.gitKind(of: rel) == k
                if !already {
                    ws.config.metrics.removeAll { $0 == rel }
                    ws.config.params.removeAll { $0 == rel }
                    if k == .metrics { ws.config.metrics.append(rel); ws.config.metrics.sort() } else { ws.config.params.append(rel); ws.config.params.sort() }
                    configChanged = true
                }
                toStage.append(rel)
                out.append(TrackedItem(path: rel, kind: k, storage: .git, alreadyTracked: already))
                continue
            }
            // Data files must not also be in git: that is the bloat mlv exists to avoid.
            if gitPaths == nil { gitPaths = try ws.git.indexPaths(endingWith: "") }
            if let inGit = gitPaths!.first(where: { RepoPath.isWithin($0, rel) }) {
                throw MLVError.alreadyTrackedByGit(inGit == rel ? rel : inGit)
            }
            if mode == S_IFDIR { try checkTree(rel) }
            let pointer = Pointer(kind: k, type: mode == S_IFDIR ? .dir : .file)
            try ws.writePointer(pointer, for: rel)
            try ws.setIgnored(rel, true)
            toStage.append(Pointer.pointerPath(for: rel))
            out.append(TrackedItem(path: rel, kind: k, storage: .mlv, alreadyTracked: false))
        }
        if configChanged {
            try ws.config.save(path: ws.configPath)
            toStage.append(Config.fileName)
        }
        if !toStage.isEmpty {
            if FS.exists(ws.absolute(".gitignore")) { toStage.append(".gitignore") }
            try ws.stageInGit(toStage)
        }
        return out
    }

    /// Refuses a directory that holds something mlv cannot store faithfully.
    private func checkTree(_ rel: String, depth: Int = 1) throws {
        guard depth <= TreeLimits.maxDepth else { throw MLVError.invalidArgument(tooDeep(rel)) }
        for name in try FS.list(ws.absolute(rel)) {
            let child = rel + "/" + name
            do { try validateName(name) } catch { throw MLVError.invalidArgument("\(child.debugDescription): \(error)") }
            guard let st = FS.lstat(ws.absolute(child)) else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try checkTree(child, depth: depth + 1)
            case S_IFREG, S_IFLNK: continue
            default: throw MLVError.unsupportedFileType(child)
            }
        }
    }

    /// `mlv untrack`: stops tracking; the data stays in the working tree and the store.
    public func untrack(_ inputs: [String]) throws -> [String] {
        let lock = try ws.lock("untrack") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let existing = try ws.targets()
        var removed: [String] = []
        var stageAdd: [String] = []
        var stageRemove: [String] = []
        var cache = ws.loadStatCache()
        for input in inputs {
            let rel = try ws.userPath(input)
            if ws.config.gitKind(of: rel) != nil {
                // A stage's params file is params because the stage reads it.
                if let stage = ws.config.stagesReadingParams(rel).first {
                    throw MLVError.invalidArgument("\(rel) holds params of stage \(stage); remove the stage first with `mlv stage remove \(stage)`, or drop its params entry, then untrack it")
                }
                ws.config.metrics.removeAll { $0 == rel }
                ws.config.params.removeAll { $0 == rel }
                try ws.config.save(path: ws.configPath)
                stageAdd.append(Config.fileName)
                removed.append(rel)
                continue
            }
            guard existing.contains(where: { $0.path == rel }) else {
                throw Workspace.notATarget(rel, targets: existing.map(\.path)) { "mlv untracks whole targets: `mlv untrack \($0)` (then `mlv track` what you want of it)" }
            }
            // A stage's output is tracked because the stage produces it: untracking it alone
            // would leave a stage whose output nothing records (and `repro` would say "up to date").
            if let (stage, _) = ws.config.stages.sorted(by: { $0.key < $1.key }).first(where: { $0.value.outs.contains { RepoPath.isWithin(rel, $0) || RepoPath.isWithin($0, rel) } }) {
                throw MLVError.invalidArgument("\(rel) is an output of stage \(stage); remove the stage first with `mlv stage remove \(stage)`, then untrack it")
            }
            try ws.tree.checkParents(ws.absolute(Pointer.pointerPath(for: rel)))
            FS.remove(ws.absolute(Pointer.pointerPath(for: rel)))
            try ws.setIgnored(rel, false)
            stageRemove.append(Pointer.pointerPath(for: rel))
            cache.forget(target: rel)
            removed.append(rel)
        }
        if FS.exists(ws.absolute(".gitignore")) && !stageRemove.isEmpty { stageAdd.append(".gitignore") }
        try ws.stageInGit(stageAdd, remove: stageRemove)
        try ws.saveStatCache(&cache)
        return removed
    }
}
