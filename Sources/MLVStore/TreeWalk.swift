import MLVSystem
import Synchronization

// Walking snapshots safely. A tree is checked on its own when decoded (names, order, each
// entry's counts); these walks check what only a walk can see, against documented limits
// (man/mlv-store.5, LIMITS):
//
//   - nesting: at most `maxDepth` trees on any path from a snapshot's root;
//   - totals: a folder entry's size and file count equal the sums of its tree's entries, and
//     the root's equal what the pointer declares;
//   - expansion: trees may share subtrees (equal folders have equal ids), so a small store can
//     describe an enormous snapshot; with the totals checked, every regular file reached is
//     one the pointer declares, and links plus folders holding no file are at most
//     `maxHollowEntries`.
//
// Nothing here recurses: a hostile tree nested 100,000 levels deep meets a limit, not the
// end of the stack.

/// Limits on a snapshot's shape; part of the format.
public enum TreeLimits {
    /// Trees on the longest path from a snapshot's root, the root included. Git sets none (its
    /// core.maxTreeDepth, 4096 or 2048, only guards its own recursion), but data deeper than
    /// this cannot be checked out usefully on Linux: even with one-letter names 256 levels
    /// make 512 bytes of path, and with names of 16 bytes they pass PATH_MAX (4096 bytes).
    public static let maxDepth = 256
    /// Bytes of one name: NAME_MAX, the longest name a Linux file system holds.
    public static let maxNameBytes = 255
    /// Bytes of a symlink's target: readlink's limit (PATH_MAX).
    public static let maxLinkBytes = 4096
    /// Links plus folders with no regular file below them, counted over the expanded snapshot.
    /// Files are bounded by the declared count; these would not be. 2^24 (16,777,216) leaves
    /// room for any real data set (millions of links, as in a model hub cache) while keeping
    /// the work of a hostile one to seconds.
    public static let maxHollowEntries: UInt64 = 1 << 24
    /// Regular files in one snapshot, counted over the expanded tree. A folder target of more
    /// files is better split into several targets; the cap keeps what a listing, a diff or a
    /// checkout of a snapshot must hold bounded (a 7 KB "DAG bomb" of trees naming the next
    /// one twice declares 2^40 files).
    public static let maxFiles: UInt64 = 1 << 24
    /// The longest path a checkout can write: Linux's PATH_MAX, terminating NUL included.
    public static let pathMax = 4096
}

/// What a folder holds: its totals as recorded in the entries, and its shape.
public struct TreeFacts: Sendable, Equatable {
    public var size: UInt64 = 0
    public var files: UInt64 = 0
    /// Trees on the longest path down, this one included.
    public var depth = 1
    /// Links and file-less folders below (saturating).
    public var hollow: UInt64 = 0
    /// Bytes of the longest relative path below ("a/b/c"), 0 for an empty folder.
    public var longestPath = 0
}

/// Sums that a hostile tree may push past 2^64: an overflow is an error, not a trap.
private func add(_ a: UInt64, _ b: UInt64) -> UInt64? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : r
}

private func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? .max : r
}

/// A path for an error message: hostile ones run to 64 KiB (256 levels of 255-byte names),
/// so long ones keep their start and end.
func shown(_ path: String) -> String {
    guard path.utf8.count > 160 else { return path }
    return "\(path.prefix(60))…(\(path.utf8.count) bytes)…\(path.suffix(60))"
}

/// The totals of one tree's entries, or nil when they overflow.
func totals(of tree: Tree) -> (size: UInt64, files: UInt64)? {
    var size: UInt64 = 0, files: UInt64 = 0
    for e in tree.entries {
        guard let s = add(size, e.size), let f = add(files, e.files) else { return nil }
        size = s
        files = f
    }
    return (size, files)
}

func mismatch(_ path: String, declared: (size: UInt64, files: UInt64), held: (size: UInt64, files: UInt64)?, by owner: String) -> String {
    let holds = held.map { "\(counted($0.files, "file")) of \(counted($0.size, "byte"))" } ?? "more than 2^64 files or bytes"
    return "\(owner) says \(shown(path)) has \(counted(declared.files, "file")) of \(counted(declared.size, "byte")), its tree holds \(holds)"
}

public extension Store {
    /// Checks a whole folder snapshot once per distinct tree (shared subtrees are visited
    /// once, so a "DAG bomb" costs what its store holds, not what it expands to): every
    /// folder entry's totals against its tree, nesting, links and empty folders, and the root
    /// against `declared` (a pointer's size and files). `target` names the snapshot in errors.
    /// Results are remembered for the life of the process: a tree's id fixes everything below.
    @discardableResult
    func checkSnapshot(_ root: ObjectID, target: String, declared: (size: UInt64, files: UInt64)?) throws -> TreeFacts {
        let facts = try checkTree(root, target: target)
        guard facts.files <= TreeLimits.maxFiles else {
            throw ObjectError.badSnapshot(target: target, why: "it holds \(facts.files) files, more than the \(TreeLimits.maxFiles) one snapshot may (split the folder into several targets)")
        }
        if let d = declared, d.size != facts.size || d.files != facts.files {
            throw ObjectError.badSnapshot(target: target, why: mismatch(target, declared: d, held: (facts.size, facts.files), by: "its pointer"))
        }
        return facts
    }

    private func checkTree(_ root: ObjectID, target: String) throws -> TreeFacts {
        if let f = checkedTrees.withLock({ $0[root] }) { return f }
        struct Frame {
            let id: ObjectID
            let entries: [TreeEntry]
            var next = 0
            let path: String
            var facts = TreeFacts()
        }
        func bad(_ why: String) -> ObjectError { .badSnapshot(target: target, why: why) }
        var stack = [Frame(id: root, entries: try tree(root).entries, path: target)]
        // Adds a checked child folder's facts to the frame on top (its parent).
        func attach(_ child: TreeFacts, as e: TreeEntry) throws {
            let top = stack.count - 1
            let path = stack[top].path + "/" + e.name
            guard e.size == child.size && e.files == child.files else {
                throw bad(mismatch(path, declared: (e.size, e.files), held: (child.size, child.files), by: "its folder"))
            }
            // Nesting counts from the snapshot's root: the parent sits `stack.count` deep.
            guard stack.count + child.depth <= TreeLimits.maxDepth else {
                throw bad("\(shown(path)) is nested deeper than \(TreeLimits.maxDepth) levels, the format's limit")
            }
            var f = stack[top].facts
            guard let s = add(f.size, child.size), let n = add(f.files, child.files) else {
                throw bad("\(shown(stack[top].path)) holds more than 2^64 files or bytes")
            }
            f.size = s
            f.files = n
            f.depth = max(f.depth, child.depth + 1)
            f.hollow = saturatingAdd(saturatingAdd(f.hollow, child.hollow), child.files == 0 ? 1 : 0)
            f.longestPath = max(f.longestPath, e.name.utf8.count + (child.longestPath > 0 ? 1 + child.longestPath : 0))
            stack[top].facts = f
            try checkHollow(f.hollow)
        }
        func checkHollow(_ n: UInt64) throws {
            guard n <= TreeLimits.maxHollowEntries else {
                throw bad("more than \(TreeLimits.maxHollowEntries) links and folders without files, the format's limit")
            }
        }
        while !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].next == stack[top].entries.count {
                let done = stack.removeLast()
                checkedTrees.withLock { $0[done.id] = done.facts }
                if stack.isEmpty { return done.facts }
                try attach(done.facts, as: stack[stack.count - 1].entries[stack[stack.count - 1].next - 1])
                continue
            }
            let e = stack[top].entries[stack[top].next]
            stack[top].next += 1
            switch e.kind {
            case .file, .symlink:
                var f = stack[top].facts
                guard let s = add(f.size, e.size), let n = add(f.files, e.files) else {
                    throw bad("\(shown(stack[top].path)) holds more than 2^64 files or bytes")
                }
                f.size = s
                f.files = n
                if e.kind == .symlink { f.hollow = saturatingAdd(f.hollow, 1) }
                f.longestPath = max(f.longestPath, e.name.utf8.count)
                stack[top].facts = f
                try checkHollow(f.hollow)
            case .directory:
                if let known = checkedTrees.withLock({ $0[e.id] }) {
                    try attach(known, as: e)
                    continue
                }
                let path = stack[top].path + "/" + e.name
                guard stack.count < TreeLimits.maxDepth else {
                    throw bad("\(shown(path)) is nested deeper than \(TreeLimits.maxDepth) levels, the format's limit")
                }
                stack.append(Frame(id: e.id, entries: try tree(e.id).entries, path: path))
            }
        }
        fatalError("unreachable: the loop returns when the root's frame is done")
    }
}

/// Trees already checked by `checkSnapshot`, by id (the same in every store: an id fixes the
/// content below it).
private let checkedTrees = Mutex<[ObjectID: TreeFacts]>([:])

/// Every entry of a snapshot in depth-first order (a folder before what it holds, names in
/// byte order), without recursion. The snapshot is checked as a whole first
/// (`Store.checkSnapshot`); each folder's tree is checked again as it is opened: its totals
/// against the entry naming it (so a walk stops at the first excess instead of expanding a
/// DAG bomb), its nesting against `TreeLimits.maxDepth`, and links plus file-less folders
/// against `TreeLimits.maxHollowEntries`.
public struct TreeWalker {
    public struct Item {
        /// `path` given for the root, then "/"-joined names below it.
        public let path: String
        public let entry: TreeEntry
        /// 0 for the root entry, 1 for the entries of its tree, and so on.
        public let depth: Int
    }

    let store: Store
    let target: String
    private var root: Item?
    /// Whether the root entry's totals are known (a pointer's) and must match its tree.
    private let rootDeclared: Bool
    private var descend: Item?
    private var stack: [(entries: [TreeEntry], next: Int, path: String, depth: Int)] = []
    private var hollow: UInt64 = 0

    /// Walks from `root` (a pointer's snapshot, or an entry found in a tree) named `path`.
    /// `declared`: whether root's size and files are known; `target` names it in errors.
    public init(store: Store, root: TreeEntry, path: String, target: String, declared: Bool = true) {
        self.store = store
        self.target = target
        self.root = Item(path: path, entry: root, depth: 0)
        self.rootDeclared = declared
    }

    public mutating func next() throws -> Item? {
        if let r = root {
            root = nil
            if r.entry.kind == .directory {
                // The whole snapshot first, once per distinct tree: a DAG bomb of empty folders
                // (nothing declared to exceed) is refused here, not after 2^24 trees are opened.
                try store.checkSnapshot(r.entry.id, target: target, declared: rootDeclared ? (r.entry.size, r.entry.files) : nil)
                descend = r
            }
            return r
        }
        if let d = descend {
            descend = nil
            try open(d)
        }
        while let top = stack.last {
            if top.next == top.entries.count {
                stack.removeLast()
                continue
            }
            let e = top.entries[top.next]
            stack[stack.count - 1].next += 1
            let item = Item(path: top.path + "/" + e.name, entry: e, depth: top.depth)
            if e.kind == .directory { descend = item }
            return item
        }
        return nil
    }

    /// Reads and checks the tree of a folder about to be walked.
    private mutating func open(_ item: Item) throws {
        func bad(_ why: String) -> ObjectError { .badSnapshot(target: target, why: why) }
        guard item.depth < TreeLimits.maxDepth else {
            throw bad("\(shown(item.path)) is nested deeper than \(TreeLimits.maxDepth) levels, the format's limit")
        }
        let tree = try store.tree(item.entry.id)
        let held = totals(of: tree)
        if item.depth > 0 || rootDeclared, held == nil || held!.size != item.entry.size || held!.files != item.entry.files {
            throw bad(mismatch(item.path, declared: (item.entry.size, item.entry.files), held: held,
                               by: item.depth == 0 ? "its pointer" : "its folder"))
        }
        for e in tree.entries where e.kind == .symlink || (e.kind == .directory && e.files == 0) {
            hollow += 1
            guard hollow <= TreeLimits.maxHollowEntries else {
                throw bad("more than \(TreeLimits.maxHollowEntries) links and folders without files, the format's limit")
            }
        }
        stack.append((tree.entries, 0, item.path, item.depth + 1))
    }
}
