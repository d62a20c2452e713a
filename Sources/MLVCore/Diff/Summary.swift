// `mlv diff-driver` (`Summarize`): what `git diff` shows of a pointer's data, and its
// result (`PointerSummary`).
import MLVSystem
import MLVStore

/// What `mlv diff-driver` shows of a pointer's data (MLVCommands' `DiffDriverText` renders
/// it): the pointer's fields, then, when the data is in the local store, a table's columns
/// with their statistics or a folder's entries, in a stable order so that git's line diff
/// shows what moved.
public struct PointerSummary {
    public enum Entry: Equatable {
        case file(path: String, size: UInt64, id: String)
        case link(path: String)
    }

    public let pointer: Pointer
    /// Why there is no content summary (the data is neither here nor fetched); nil when there is.
    public var unavailable: String?
    /// A table's columns with their statistics, in header order (labels as `mlv diff` shows them).
    public var columns: [(name: String, stats: ColumnStats)] = []
    /// Why a table has no (or no further) column summary: it does not parse or is past its limits.
    public var columnsUnavailable: String?
    /// A folder's files and links, depth first, at most `maxEntries`.
    public var entries: [Entry] = []

    /// Entries listed for a folder (a diff of a bigger listing would not help anyone).
    public static let maxEntries = 10_000
}

/// `mlv diff-driver`'s operation: a pointer's data summarized (`PointerSummary`).
public struct Summarize {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// The summary of a pointer's data for `git diff` (textconv), read from the store; data
    /// this clone lacks is fetched first unless `offline` (`FetchMissing.forSummary`).
    public func run(pointerBytes: [UInt8], name: String, offline: Bool = false) throws -> PointerSummary {
        let p = try Pointer(parsing: pointerBytes, path: name)
        var out = PointerSummary(pointer: p)
        guard let id = p.snapshot else { return out }
        let store = try ws.store()
        if let why = try FetchMissing(ws).forSummary(p, id: id, name: name, offline: offline) {
            out.unavailable = why
            return out
        }
        let target = String(name.hasSuffix(Pointer.suffix) ? name.dropLast(Pointer.suffix.count) : Substring(name))
        switch p.type {
        case .file:
            if let fmt = TableFormat(path: target) {
                do {
                    let r: RowSource
                    switch fmt {
                    case .delimited(let sep): r = try TableReader(stream: StoredFileStream(store: store, manifest: id), name: target, separator: sep, detectHeaderless: true)
                    case .jsonLines: r = try JSONLinesReader(open: { try StoredFileStream(store: store, manifest: id) }, name: target)
                    }
                    let pool = DistinctPool(spillDirectory: store.tmpDir)
                    // The summary shows no median: no memory for exact ones.
                    var profiles = ColumnProfile.columns(r.header.count, pool: pool, medians: MedianPool(budget: 0))
                    while try r.next() { for i in 0..<r.header.count { profiles[i].add(r.field(i)) } }
                    for (i, (name, prof)) in zip(columnLabels(r.header), profiles).enumerated() {
                        out.columns.append((name, try prof.stats(index: i)))
                    }
                } catch let e as DiffError where e.isUncomparableTable {
                    // Past `TableLimits` or not parsing: the pointer's fields above are the summary.
                    out.columnsUnavailable = "\(e)"
                }
            }
        case .dir:
            // Iterative, totals and nesting checked as it goes (TreeWalker).
            var w = TreeWalker(store: store, root: TreeEntry(name: target, kind: .directory, size: p.size, files: p.files, id: id),
                               path: "", target: target)
            while out.entries.count < PointerSummary.maxEntries, let item = try w.next() {
                let e = item.entry, rel = String(item.path.dropFirst())   // paths below the root start with "/"
                switch e.kind {
                case .file: out.entries.append(.file(path: rel, size: e.size, id: e.id.short))
                case .symlink: out.entries.append(.link(path: rel))
                case .directory: continue
                }
            }
        }
        return out
    }
}
