// Which comparison `mlv diff` gives a changed target, decided in one place. Each kind of
// content has one comparison type (Comparisons.swift): metrics, folder, table, features,
// safetensors, bytes. `TargetComparisons.registered` lists them in the order they are tried;
// the first that accepts a target compares it, and any file no other one takes falls to the
// byte-level comparison (chunk reuse). To compare a new format (Parquet, ONNX), write one type
// conforming to `TargetComparison` and add one line to `registered`, before the ones it should
// win over.
import MLVStore

/// What chooses a comparison: the target's path and kind, the pointer on each side, and (read
/// only when a comparison asks for it) the table format the new side's first bytes show.
struct ComparisonSubject {
    var path: String
    var kind: TargetKind
    /// Each side's pointer; nil on the side that lacks the target.
    var old: Pointer?
    var new: Pointer?
    /// The table format of the new side's content, from its first bytes (reads the store or
    /// the disk, so it is called only by a comparison that needs it).
    var sniffTable: () throws -> TableFormat?

    init(path: String, kind: TargetKind, old: Pointer?, new: Pointer?, sniffTable: @escaping () throws -> TableFormat? = { nil }) {
        self.path = path
        self.kind = kind
        self.old = old
        self.new = new
        self.sniffTable = sniffTable
    }

    /// The snapshots of both sides when both hold stored content of `type`; nil otherwise (an
    /// added or removed target, or one that changed from file to folder, is described by its
    /// pointers alone).
    func snapshots(ifBoth type: Pointer.TargetType) -> (old: ObjectID, new: ObjectID)? {
        guard let a = old, let b = new, a.type == type, b.type == type, let sa = a.snapshot, let sb = b.snapshot else { return nil }
        return (sa, sb)
    }
}

/// What a comparison reads with: the diff (its workspace and readers), the two sides, the
/// store and the options.
struct ComparisonContext {
    let engine: DiffEngine
    /// The old side (`from`) and the new side (`to`).
    let a: DiffSide
    let b: DiffSide
    let store: Store
    /// The working tree's snapshots, taken for this diff (nil when no side is the working tree).
    let snap: Snapshotter?
    /// Table options for the target itself: its key, partitions for its size, spill directory.
    let tableOptions: TableDiffOptions
    /// Table options for a file inside a folder target: its own --key, else the target's.
    let keyed: (_ options: TableDiffOptions, _ file: String, _ target: String) -> TableDiffOptions
    /// The paths inside the target the report is narrowed to; empty: all of it.
    let narrowedTo: [String]
}

/// Where a comparison's result belongs in the report.
enum ComparisonOutcome {
    /// The target is listed, with what the comparison filled in.
    case listed
    /// Nothing of the target is left once the report is narrowed to the paths asked for.
    case narrowedAway
    /// Metrics or params: their changes go to the report's metrics or params, not its targets.
    case values([MetricChange])
}

/// One way of comparing the two sides of a target.
protocol TargetComparison {
    /// This comparison for `subject`, or nil when it does not apply. May throw when deciding
    /// reads content (a dataset's first bytes).
    init?(_ subject: ComparisonSubject) throws
    /// Compares the two sides, filling in the typed fields of `diff` (table, files, features,
    /// binary, tensors, warnings).
    func compare(_ subject: ComparisonSubject, in context: ComparisonContext, into diff: inout TargetDiff) throws -> ComparisonOutcome
}

enum TargetComparisons {
    /// Every comparison, in the order they are tried: the first that accepts a target wins.
    static var registered: [any TargetComparison.Type] {
        [
            MetricsComparison.self,      // metrics and params: values by key, whatever each side holds
            FolderComparison.self,       // a folder on both sides: its files, and the tables among them
            TableComparison.self,        // a dataset file in a table format (by its name, else its first bytes)
            FeaturesComparison.self,     // feature definitions
            SafetensorsComparison.self,  // a safetensors file: chunk reuse, then tensor by tensor
            BytesComparison.self,        // any other file on both sides: chunk reuse
        ]
    }

    /// The comparison `subject` gets; nil when it gets none (added, removed, or a file on one
    /// side and a folder on the other: its pointers describe it).
    static func select(_ subject: ComparisonSubject) throws -> (any TargetComparison)? {
        for type in registered {
            if let c = try type.init(subject) { return c }
        }
        return nil
    }
}
