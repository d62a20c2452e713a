import MLVSystem
import MLVStore

/// Repository-relative paths: '/'-separated, no leading '/', no '.', '..' or empty components.
public enum RepoPath {
    /// Turns a user-given path (relative to `cwd`, or absolute) into a repository-relative one,
    /// refusing anything outside the working tree or inside `.git`/`.mlv`.
    public static func fromUser(_ input: String, cwd: String, root: String) throws -> String {
        let absolute = input.hasPrefix("/") ? input : FS.join(cwd, input)
        var parts: [Substring] = []
        for c in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                if parts.isEmpty { throw MLVError.pathOutsideRepo(input) }
                parts.removeLast()
                continue
            }
            parts.append(c)
        }
        let normalized = "/" + parts.joined(separator: "/")
        guard normalized.hasPrefix(root + "/") || normalized == root else { throw MLVError.pathOutsideRepo(input) }
        let rel = String(normalized.dropFirst(root.count)).drop { $0 == "/" }
        if rel.isEmpty { throw MLVError.invalidArgument("\(input) is the repository root; track the data files or folders inside it") }
        try validate(String(rel), source: input)
        return String(rel)
    }

    /// Checks a repository-relative path read from a pointer, a tree or the user.
    public static func validate(_ path: String, source: String) throws {
        let comps = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("/"), !comps.isEmpty else { throw MLVError.pathOutsideRepo(source) }
        if comps[0].lowercased() == ".git" || comps[0] == ".mlv" { throw MLVError.pathInsideMetadata(source) }
        // (The first component's `.git`/`.mlv` check runs before this loop, case-folded for
        // `.git`: a second, exact-case check after it could never fire, so there is none.)
        for c in comps {
            do { try validateName(String(c)) } catch { throw MLVError.pathOutsideRepo(source) }
        }
    }

    public static func parent(_ path: String) -> String { FS.dirname(path) }

    /// True when `a` is `b` or lies below it.
    public static func isWithin(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/")
    }
}
