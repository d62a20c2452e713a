import MLVSystem
import Glibc
import MLVGit
import MLVStore

/// Confinement of the working tree: the one place that decides whether mlv may read, write,
/// rename or remove a path on the repository's behalf.
///
/// The paths mlv acts on come from files someone else may control — pointers, trees and
/// `mlv.yaml` in a cloned repository, git trees checked out by a hook. A path that is valid as
/// text (`RepoPath.validate`: relative, no `..`, not in `.git`/`.mlv`) can still leave the
/// tree on disk when one of its folders is a symlink: `d -> ..` turns `d/sib` into a sibling
/// of the repository. So, on disk:
///
/// - **Writes, renames and removals** go only through real folders: every component between
///   the root and the path's parent is `lstat`ed right before the operation and must be a
///   directory, not a link. The path itself is never followed (removal unlinks a link, it does
///   not descend into its target).
/// - **Reads** of working files (metrics, params, pointers, run records, datasets being
///   diffed) resolve every link and must land inside the working tree and outside `.git` and
///   `.mlv`: a committed `metrics.json -> reports/m.json` works, `-> /home/you/.aws/credentials`
///   does not.
///
/// Checks happen at the moment of use, after any step (such as a git checkout) that may have
/// swapped a folder for a link.
public struct WorkTree: Sendable {
    /// Absolute path of the working tree, as mlv spells it (git's workdir).
    public let root: String
    /// The same folder with every link resolved, for checking where reads land.
    let realRoot: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        realRoot = WorkTree.realPath(self.root) ?? self.root
    }

    /// The repository-relative form of `abs`, or nil when it is not below the root.
    func relative(_ abs: String) -> String? {
        guard abs.hasPrefix(root + "/") else { return nil }
        return String(abs.dropFirst(root.count + 1))
    }

    /// Throws unless every folder between the root and `abs`'s parent is a real directory:
    /// an operation on `abs` then acts inside the tree. `abs` itself may be anything or absent.
    public func checkParents(_ abs: String) throws { try walkParents(abs, creating: false) }

    /// Creates the folders above `abs` that are missing, under the same rule.
    public func makeParents(_ abs: String) throws { try walkParents(abs, creating: true) }

    private func walkParents(_ abs: String, creating: Bool) throws {
        guard let rel = relative(abs) else { throw MLVError.pathOutsideRepo(abs) }
        var path = root
        for c in rel.split(separator: "/").dropLast() {
            path += "/" + c
            guard let st = FS.lstat(path) else {
                guard creating else { return }   // nothing below it exists yet
                if mkdir(path, 0o755) != 0 && errno != EEXIST { throw IOError("mkdir", path) }
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFLNK: throw MLVError.symlinkInPath(path: rel, link: relative(path) ?? path)
            default: throw MLVError.fileInPath(path: rel, file: relative(path) ?? path)
            }
        }
    }

    /// `rm -rf abs` inside the tree: parents checked, links unlinked rather than followed.
    public func remove(_ abs: String) throws {
        try checkParents(abs)
        try FS.removeTree(abs)
    }

    /// Where `rel` really is once every link is resolved, provided that lies inside the
    /// working tree and outside `.git`/`.mlv`; nil when nothing is there.
    public func resolvedForReading(_ rel: String) throws -> String? {
        let abs = root + "/" + rel
        guard FS.lstat(abs) != nil else { return nil }
        guard let real = WorkTree.realPath(abs) else {
            // A dangling link, or a loop: nothing readable is there.
            if let st = FS.lstat(abs), st.st_mode & S_IFMT == S_IFLNK { throw MLVError.linkOutsideRepo(path: rel, target: (try? readLink(abs)).map { String(decoding: $0, as: UTF8.self) } ?? "?") }
            return nil
        }
        guard real == realRoot || real.hasPrefix(realRoot + "/") else {
            throw MLVError.linkOutsideRepo(path: rel, target: real)
        }
        let inside = String(real.dropFirst(realRoot.count)).drop { $0 == "/" }
        if let first = inside.split(separator: "/").first, first.lowercased() == ".git" || first == ".mlv" {
            throw MLVError.linkOutsideRepo(path: rel, target: real)
        }
        return real
    }

    /// The bytes of the working file `rel` (see `resolvedForReading`), at most `limit` bytes;
    /// nil when there is no such file.
    public func read(_ rel: String, limit: Int = 64 << 20) throws -> [UInt8]? {
        guard let real = try resolvedForReading(rel) else { return nil }
        // A folder, FIFO or device where a file is expected is bad input (exit 2), not a
        // failing disk; and a FIFO must not block the open.
        if let st = FS.lstat(real), st.st_mode & S_IFMT != S_IFREG {
            throw MLVError.invalidArgument("\(rel) is not a regular file (\(st.st_mode & S_IFMT == S_IFDIR ? "a folder" : "a FIFO, socket or device")); mlv expected a file there")
        }
        let f = try FileHandleFD.openRead(real, regularOnly: true)
        let size = Int(try f.stat().st_size)
        guard size <= limit else {
            throw MLVError.invalidArgument("\(rel) is \(size) bytes, more than the \(limit >> 20) MiB mlv reads from a file of this kind; is it the right file?")
        }
        var out = [UInt8](repeating: 0, count: size)
        let n = try out.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
        if n < size { out.removeLast(size - n) }
        return out
    }

    /// realpath(3), or nil when the path (or a link on the way) does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

extension WorkTree {
    /// Refuses a `.mlv/` that is not mlv's own: any path under it tracked by git, or a symlink
    /// anywhere inside it (but inside isolated runs' work folders). A cloned repository could otherwise hand mlv a `.mlv/store` link to
    /// another project's store (which `gc` would prune) or a `.mlv/lock` link to any file
    /// (which taking the lock would truncate). Pack fan-out folders are checked but not
    /// listed: packs and indexes are only ever read through their hash and unlinked, never
    /// followed for a write, so a link there cannot make mlv touch anything outside.
    static func checkLocalState(root: String, git: GitRepository) throws {
        let fix = "mlv keeps .mlv/ out of git; remove it from git with `git rm -r --cached .mlv`, delete what git put there, and run mlv again"
        if let p = try git.indexPaths(under: ".mlv").first {
            throw MLVError.foreignMetadata("\(p) is tracked by git: a repository must not provide mlv's local store, lock or state; \(fix)")
        }
        let top = root + "/.mlv"
        guard let st = FS.lstat(top) else { return }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw MLVError.foreignMetadata(".mlv is \(st.st_mode & S_IFMT == S_IFLNK ? "a symlink" : "not a folder"): mlv will not use a local store it does not own; \(fix)")
        }
        var stack = [(path: top, rel: ".mlv")]
        while let (dir, rel) = stack.popLast() {
            let isFanOut = FS.dirname(rel) == ".mlv/store/packs"
            for (name, type) in try FS.listTyped(dir) {
                let r = rel + "/" + name
                let t = type ?? FS.lstat(dir + "/" + name).map { $0.st_mode & S_IFMT }
                if t == S_IFLNK {
                    throw MLVError.foreignMetadata("\(r) is a symlink: mlv does not follow links inside .mlv/ (they could lead its writes and deletions outside the repository); delete it (`rm \(r)`) and run mlv again, and if git put it there, first `git rm -r --cached .mlv`")
                }
                // Not listed: `.mlv/work/` holds isolated runs' exported commits, links and all
                // (mlv only creates and removes folders there, never following a link).
                if t == S_IFDIR && !isFanOut && r != ".mlv/store/index" && r != ".mlv/work" { stack.append((dir + "/" + name, r)) }
            }
        }
    }
}

