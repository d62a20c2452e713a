// `mlv diff`'s dispatch (Comparison.swift): which comparison each kind of target gets, that a
// file no comparison claims falls back to bytes, that a dataset's first bytes are read only
// when its name does not tell; and the change vocabulary of the report (files renamed,
// added, removed, modified; the JSON words).
import Foundation
import MLVStore
import Testing
@testable import MLVCore

@Suite struct DiffDispatchTests {
    /// A stored pointer of `kind` and `type`, with a snapshot id made from `n`.
    func pointer(_ kind: TargetKind, _ type: Pointer.TargetType, _ n: UInt64) -> Pointer {
        var p = Pointer(kind: kind, type: type)
        p.snapshot = ObjectID(w0: n, w1: 0, w2: 0, w3: 0)
        p.size = 100
        return p
    }

    /// The comparison chosen for a target changed from one pointer to another, by type name;
    /// "none" when it gets none. `sniffed` is what its first bytes say; `sniffs` counts reads.
    func chosen(_ path: String, _ kind: TargetKind, old: Pointer.TargetType? = .file, new: Pointer.TargetType? = .file,
                sniffed: TableFormat? = nil, sniffs: SniffCounter = SniffCounter()) throws -> String {
        let subject = ComparisonSubject(path: path, kind: kind, old: old.map { pointer(kind, $0, 1) }, new: new.map { pointer(kind, $0, 2) }) {
            sniffs.count += 1
            return sniffed
        }
        guard let c = try TargetComparisons.select(subject) else { return "none" }
        return String(describing: type(of: c))
    }

    final class SniffCounter { var count = 0 }

    @Test func eachKindGoesToItsComparison() throws {
        #expect(try chosen("metrics.json", .metrics) == "MetricsComparison")
        #expect(try chosen("params.yaml", .params) == "MetricsComparison")
        #expect(try chosen("data/train.csv", .dataset) == "TableComparison")
        #expect(try chosen("data/events.jsonl", .dataset) == "TableComparison")
        #expect(try chosen("features.yaml", .features) == "FeaturesComparison")
        #expect(try chosen("models/m.safetensors", .model) == "SafetensorsComparison")
        #expect(try chosen("images", .dataset, old: .dir, new: .dir) == "FolderComparison")
        #expect(try chosen("models", .model, old: .dir, new: .dir) == "FolderComparison")
    }

    @Test func aFileNoComparisonClaimsFallsBackToBytes() throws {
        #expect(try chosen("models/m.onnx", .model) == "BytesComparison")
        #expect(try chosen("data/blob.parquet", .dataset, sniffed: nil) == "BytesComparison")
        // A CSV name on a model is not a table: tables are datasets.
        #expect(try chosen("models/weights.csv", .model) == "BytesComparison")
        // The fallback comes last, so that every other comparison is tried before it.
        #expect(TargetComparisons.registered.last.map { String(describing: $0) } == "BytesComparison")
    }

    @Test func kindWinsOverTheFileName() throws {
        // Feature definitions and metrics keep their comparison whatever the extension says.
        #expect(try chosen("features.safetensors", .features) == "FeaturesComparison")
        #expect(try chosen("scores.csv", .metrics) == "MetricsComparison")
        // A dataset with a safetensors name that does not sniff as a table: tensor by tensor.
        #expect(try chosen("data/x.safetensors", .dataset, sniffed: nil) == "SafetensorsComparison")
    }

    @Test func firstBytesAreReadOnlyWhenTheNameDoesNotTell() throws {
        let counter = SniffCounter()
        #expect(try chosen("data/train.csv", .dataset, sniffed: nil, sniffs: counter) == "TableComparison")
        #expect(try chosen("models/m.bin", .model, sniffs: counter) == "BytesComparison")
        #expect(try chosen("features.yaml", .features, sniffs: counter) == "FeaturesComparison")
        #expect(counter.count == 0)
        #expect(try chosen("data/export", .dataset, sniffed: .delimited(UInt8(ascii: ";")), sniffs: counter) == "TableComparison")
        #expect(counter.count == 1)
    }

    @Test func addedRemovedOrRetypedTargetsGetNoComparisonButMetricsDo() throws {
        #expect(try chosen("data/train.csv", .dataset, old: nil) == "none")
        #expect(try chosen("data/train.csv", .dataset, new: nil) == "none")
        #expect(try chosen("data/train", .dataset, old: .file, new: .dir) == "none")
        // Metrics added or removed still list their values (old or new side empty).
        #expect(try chosen("metrics.json", .metrics, old: nil) == "MetricsComparison")
        #expect(try chosen("metrics.json", .metrics, new: nil) == "MetricsComparison")
    }

    @Test func aTargetWithoutStoredContentOnOneSideGetsNoComparison() throws {
        var old = pointer(.model, .file, 1)
        old.snapshot = nil
        let subject = ComparisonSubject(path: "m.bin", kind: .model, old: old, new: pointer(.model, .file, 2))
        #expect(try TargetComparisons.select(subject) == nil)
    }

    /// Two folders' files: path -> (content id, size), the content id from `n`.
    func files(_ entries: [String: UInt64]) -> [String: (ObjectID, UInt64)] {
        entries.mapValues { (ObjectID(w0: $0, w1: 0, w2: 0, w3: 0), $0 * 10) }
    }

    @Test func folderFilesAreAddedRemovedModifiedOrRenamed() {
        let old = files(["a.csv": 1, "b.csv": 2, "moved/old.bin": 3, "gone.txt": 4])
        let new = files(["a.csv": 1, "b.csv": 5, "moved/new.bin": 3, "fresh.txt": 6])
        let changes = fileChanges(old, new)
        #expect(changes.map { "\($0.change.rawValue) \($0.path)" } == [
            "modified b.csv", "added fresh.txt", "removed gone.txt", "renamed moved/new.bin",
        ])
        #expect(changes.first { $0.change == .renamed }?.from == "moved/old.bin")
        #expect(changes.first { $0.change == .modified }.map { [$0.oldSize, $0.newSize] } == [20, 50])
    }

    @Test func jsonKeepsTheWordsOfTheVocabulary() throws {
        let t = TargetDiff(path: "d.csv", kind: .dataset, change: .removed, oldSnapshot: nil, newSnapshot: nil, oldSize: 1,
                           newSize: nil, files: [FileChange(path: "d.csv/x", change: .renamed, from: "d.csv/y", oldSize: 1, newSize: 1)],
                           table: nil, tables: [:], binary: nil, features: nil, tensors: nil)
        let json = try #require(String(data: JSONEncoder().encode(t), encoding: .utf8))
        #expect(json.contains(#""change":"removed""#))
        #expect(json.contains(#""change":"renamed""#))
        #expect(ChangeKind.allCases.map(\.rawValue) == ["added", "removed", "modified"])
        #expect(EntryChangeKind.allCases.map(\.rawValue) == ["added", "removed", "modified", "renamed"])
        #expect(TensorChange.Kind.allCases.map(\.rawValue) == ["added", "removed", "reshaped", "retyped", "modified"])
        #expect(FeatureChange.Scope.allCases.map(\.rawValue) == ["entity", "view", "feature"])
    }

    /// Every stored property of a target's diff reaches JSON, apart from those documented as
    /// kept out of it: a new comparison's field missing from `CodingKeys` would be dropped
    /// from `--format json` without a compiler error.
    @Test func everyFieldOfATargetDiffIsInJSON() {
        let t = TargetDiff(path: "d.csv", kind: .dataset, change: .modified, oldSnapshot: nil, newSnapshot: nil, oldSize: nil,
                           newSize: nil, files: [], table: nil, tables: [:], binary: nil, features: nil, tensors: nil)
        let stored = Set(Mirror(reflecting: t).children.compactMap(\.label))
        let notInJSON: Set<String> = ["uncomparedTables"]   // `warnings` says it (DiffReport.swift)
        // JSON names are the property names in snake case.
        func camel(_ key: String) -> String {
            let parts = key.split(separator: "_")
            return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }.joined()
        }
        let encoded = Set(TargetDiff.CodingKeys.allCases.map { camel($0.stringValue) })
        #expect(stored.subtracting(notInJSON) == encoded, "stored \(stored.sorted()), encoded \(encoded.sorted())")
    }
}
