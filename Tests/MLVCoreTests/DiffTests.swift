import Foundation
import MLVTestSupport
import Testing
@testable import MLVCore

func table(_ text: String, name: String = "t.csv", sep: Character = ",") throws -> (header: [String], rows: [[String]]) {
    let r = try TableReader(stream: MemoryStream(Array(text.utf8)), name: name, separator: UInt8(ascii: sep.unicodeScalars.first!))
    var rows: [[String]] = []
    while try r.next() { rows.append((0..<r.fieldCount).map { r.string($0) }) }
    return (r.header, rows)
}

func tdiff(_ a: String, _ b: String, key: [String] = [], samples: Int = 5) throws -> TableDiff {
    try diffTables(oldName: "old.csv", newName: "new.csv", separator: UInt8(ascii: ","),
                   options: TableDiffOptions(key: key, rowSamples: samples)) { MemoryStream(Array(($0 ? b : a).utf8)) }
}

@Suite struct TableReaderTests {
    @Test func quotedFieldsWithSeparatorsQuotesAndNewlines() throws {
        let t = try table("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",3\n")
        #expect(t.header == ["a", "b"])
        #expect(t.rows == [["x, y", "say \"hi\""], ["two\nlines", "3"]])
    }

    @Test func crlfBomUnicodeAndEmptyCells() throws {
        let t = try table("\u{FEFF}id,名前\r\n1,ünï\r\n2,\r\n")
        #expect(t.header == ["id", "名前"])
        #expect(t.rows == [["1", "ünï"], ["2", ""]])
    }

    @Test func emptyFileAndHeaderOnly() throws {
        #expect(try table("").header == [])
        let h = try table("a,b\n")
        #expect(h.header == ["a", "b"] && h.rows.isEmpty)
    }

    @Test func aRaggedRowNamesFileAndLine() throws {
        #expect(throws: DiffError.malformed(file: "t.csv", line: 3, why: "3 fields where the header has 2 (a ragged row; quote fields that contain ',')")) {
            _ = try table("a,b\n1,2\n1,2,3\n")
        }
        #expect(throws: DiffError.self) { _ = try table("a,b\n\"open,2\n") }
    }

    @Test func veryLongCellsAndTabs() throws {
        let long = String(repeating: "x", count: 3_000_000)
        let t = try table("a\tb\n\(long)\t1\n", sep: "\t")
        #expect(t.rows[0][0].count == 3_000_000)
    }
}

@Suite struct TableDiffTests {
    let old = "id,name,score\n1,a,0.5\n2,b,0.7\n3,c,0.9\n"

    @Test func keyedRowsAddedRemovedModifiedWithCells() throws {
        let d = try tdiff(old, "id,name,score\n1,a,0.5\n2,B,0.75\n4,d,1.5\n", key: ["id"])
        #expect(d.rows.added == 1 && d.rows.removed == 1 && d.rows.modified == 1)
        #expect(d.cellsChanged == 2)
        #expect(d.modifiedRows.count == 1)
        #expect(d.modifiedRows[0].key == ["id": "2"])
        #expect(d.modifiedRows[0].cells.map { "\($0.column):\($0.old)->\($0.new)" } == ["name:b->B", "score:0.7->0.75"])
        #expect(d.removedSample == [["id": "3", "name": "c", "score": "0.9"]])
        #expect(d.addedSample == [["id": "4", "name": "d", "score": "1.5"]])
    }

    @Test func unkeyedRowsAreAMultiset() throws {
        let d = try tdiff("a\n1\n1\n2\n", "a\n1\n2\n2\n3\n")
        #expect(d.rows.keyed == false)
        #expect(d.rows.added == 2 && d.rows.removed == 1 && d.rows.modified == 0)
    }

    @Test func schemaChangesRenameAndTypeChange() throws {
        // A renamed column is one removed and one added; a reorder alone changes no row.
        let d = try tdiff("id,score,label\n1,5,x\n2,6,y\n", "label,id,points,score\n x,1,5,5.5\ny,2,6,6\n", key: ["id"])
        #expect(d.columns.added == ["points"])
        #expect(d.columns.removed == [])
        #expect(d.columns.reordered)
        #expect(d.columns.typeChanged.map { "\($0.column):\($0.old.rawValue)->\($0.new.rawValue)" } == ["score:integer->float"])
        let r = try tdiff("id,a,b\n1,x,y\n", "id,b,a\n1,y,x\n", key: ["id"])
        #expect(r.rows.modified == 0 && r.columns.reordered)
    }

    @Test func duplicateKeysAreCounted() throws {
        let d = try tdiff("id,v\n1,a\n1,b\n2,c\n", "id,v\n1,a\n2,c\n2,d\n", key: ["id"])
        #expect(d.rows.duplicateKeysOld == 1 && d.rows.duplicateKeysNew == 1)
    }

    @Test func anUnknownKeyColumnIsAClearError() throws {
        #expect(throws: DiffError.unknownKey(file: "old.csv", column: "nope", columns: ["id", "name", "score"])) {
            _ = try tdiff(old, old, key: ["nope"])
        }
    }

    @Test func statisticsAndDrift() throws {
        var a = "x,c\n", b = "x,c\n"
        for i in 0..<1000 { a += "\(i),\(i % 2 == 0 ? "red" : "blue")\n"; b += "\(i + 500),\(i % 10 == 0 ? "red" : "blue")\n" }
        a += ",NA\n"
        let d = try tdiff(a, b)
        let x = d.stats.first { $0.column == "x" }!
        #expect(x.old?.type == .integer)
        #expect(x.old?.nulls == 1 && x.new?.nulls == 0)
        #expect(x.old?.mean == 499.5 && x.new?.mean == 999.5)
        #expect(x.old?.min == "0" && x.old?.max == "999" && x.new?.max == "1499")
        #expect(abs((x.old?.median ?? 0) - 499.5) < 1)
        #expect(abs(Double(x.old!.distinct) - 1000) < 40)
        #expect((x.drift ?? 0) > 1 && x.drifted)
        let c = d.stats.first { $0.column == "c" }!
        #expect((c.drift ?? 0) > 0.2 && c.drifted)
        let same = try tdiff(a, a)
        #expect(same.stats.allSatisfy { ($0.drift ?? 0) < 0.001 })
    }

    @Test func nanAndEmptyCellsAreNulls() throws {
        // `""` is one empty field; a blank line is no row at all (Python's csv.reader: []).
        let d = try tdiff("v\n1\nNaN\n\"\"\n\n2\n", "v\n1\n2\n")
        #expect(d.stats[0].old?.nulls == 2)
        #expect(d.stats[0].old?.type == .integer)
    }
}

@Suite struct MetricsTests {
    @Test func jsonYamlAndCsvFlattenWithDots() throws {
        let j = try flattenMetrics(Array(#"{"roc_auc": {"test": 0.91, "train": 0.99}, "ok": true, "n": 3, "tags": ["a"]}"#.utf8), path: "m.json")
        #expect(j == ["roc_auc.test": .number(0.91), "roc_auc.train": .number(0.99), "ok": .bool(true), "n": .number(3), "tags.0": .text("a")])
        let y = try flattenMetrics(Array("train:\n  lr: 0.1\n  epochs: 10\nname: run\n".utf8), path: "p.yaml")
        #expect(y == ["train.lr": .number(0.1), "train.epochs": .number(10), "name": .text("run")])
        let c = try flattenMetrics(Array("acc,loss\n0.9,0.1\n".utf8), path: "m.csv")
        #expect(c == ["acc": .number(0.9), "loss": .number(0.1)])
        let kv = try flattenMetrics(Array("name,value\nacc,0.9\nf1,0.8\n".utf8), path: "m.csv")
        #expect(kv == ["acc": .number(0.9), "f1": .number(0.8)])
    }

    /// YAML scalars keep their resolved types; keys that are mappings or lists are an error
    /// (the fuzzer found that Yams.load traps on `{}: 1234s567=`).
    @Test func yamlTypesAndHostileKeys() throws {
        let y = try flattenMetrics(Array("a: true\nb: 3\nc: 2.5\nd: ~\ne: text\nf: 123456789012345678901234\ng: [1, x]\n".utf8), path: "p.yaml")
        #expect(y == ["a": .bool(true), "b": .number(3), "c": .number(2.5), "e": .text("text"), "f": .number(ExactNumber(parsing: "123456789012345678901234")!), "g.0": .number(1), "g.1": .text("x")])
        for hostile in ["{}: 1234s567=", "[1, 2]: x", "? {a: 1}\n: 2\n"] {
            #expect(throws: DiffError.self, "\(hostile)") { try flattenMetrics(Array(hostile.utf8), path: "p.yaml") }
        }
    }

    /// Every input a fuzzer ever crashed a parser with (Tests/Fuzz/regressions/TARGET/) now
    /// parses or fails with an error, without trapping.
    @Test func fuzzRegressionsNoLongerCrash() throws {
        let dir = packageRootForTests + "/Tests/Fuzz/regressions"
        var replayed = 0
        for target in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/" + target) {
                let bytes = [UInt8](FileManager.default.contents(atPath: "\(dir)/\(target)/\(name)")!)
                switch target {
                case "metrics": for f in ["m.json", "m.yaml", "m.csv"] { _ = try? flattenMetrics(bytes, path: f) }
                case "config": _ = try? Config.parse(bytes)
                case "features": _ = try? FeatureSet.parse(bytes, path: "f.yaml")
                case "pointer": _ = try? Pointer(parsing: bytes, path: "x.mlv")
                default: Issue.record("no replay for fuzz target \(target)")
                }
                replayed += 1
            }
        }
        #expect(replayed >= 1, "no regression inputs found under \(dir)")
    }

    @Test func invalidFilesAreClearErrors() {
        #expect(throws: DiffError.self) { try flattenMetrics(Array("{oops".utf8), path: "m.json") }
        do {
            _ = try flattenMetrics(Array("a: [1,\nb: 2\n".utf8), path: "p.yaml")
            Issue.record("bad YAML accepted")
        } catch let e as DiffError {
            #expect("\(e)".hasPrefix("p.yaml:"))
        } catch { Issue.record("\(error)") }
    }

    @Test func comparisonsCarryDeltasAndAddedRemovedKeys() {
        let ch = compareMetrics(file: "m.json", old: ["a": .number(2), "gone": .number(1)], new: ["a": .number(3), "new": .number(5)])
        #expect(ch.map(\.key) == ["a", "gone", "new"])
        #expect(ch[0].delta == 1 && ch[0].relative == 0.5)
        #expect(ch[1].new == nil && ch[2].old == nil && ch[2].delta == nil)
    }
}

@Suite struct GateTests {
    func report() -> DiffReport {
        DiffReport(from: "a", to: "b", targets: [], metrics: [
            MetricChange(file: "m.json", key: "roc_auc.test", old: .number(0.9), new: .number(0.88), delta: -0.02, relative: -0.02 / 0.9),
        ], params: [])
    }

    @Test func termsAndOperators() throws {
        #expect(try Gate(parsing: "roc_auc.test < -0.01").value(in: report()) == -0.02)
        #expect(try Gate(parsing: "roc_auc.test < -0.01").holds(-0.02))
        #expect(try !Gate(parsing: "roc_auc.test < -0.05").holds(-0.02))
        #expect(try Gate(parsing: "old(roc_auc.test) >= 0.9").value(in: report()) == 0.9)
        #expect(try Gate(parsing: "new(roc_auc.test) != 1").value(in: report()) == 0.88)
        #expect(try Gate(parsing: "rel(roc_auc.test) <= 0").term == .relative("roc_auc.test"))
        #expect(try Gate(parsing: "drift(data/train.csv) > 0.2").term == .drift("data/train.csv"))
    }

    @Test func badExpressionsAreExplained() {
        for bad in ["roc_auc.test", "roc < x", "bogus(x) > 1", "< 1"] {
            #expect(throws: DiffError.self, "\(bad)") { try Gate(parsing: bad) }
        }
        #expect(throws: DiffError.self) { try Gate(parsing: "nope > 1").value(in: report()) }
    }
}

@Suite struct FeatureDiffTests {
    let base = """
    version: 1
    entities:
      - {name: user, keys: [user_id]}
    feature_views:
      - name: activity
        source: data/events.csv
        entity: user
        ttl: 7d
        owner: a@example.com
        tags: {domain: growth}
        features:
          - {name: clicks_7d, dtype: int64, expression: count(click) over 7d}
          - {name: spend, dtype: float32, expression: sum(amount)}
          - {name: old_one, dtype: bool, expression: x > 1}
    """

    func changes(_ new: String) throws -> [String] {
        let a = try FeatureSet.parse(Array(base.utf8), path: "f.yaml")
        let b = try FeatureSet.parse(Array(new.utf8), path: "f.yaml")
        return diffFeatures(a, b).map { [$0.scope.rawValue, $0.name, $0.change.rawValue, $0.field ?? "", $0.old ?? "", $0.new ?? ""].joined(separator: "|") }
    }

    @Test func eachKindOfChange() throws {
        #expect(try changes(base).isEmpty)
        var v = base.replacingOccurrences(of: "dtype: float32", with: "dtype: float64")
        #expect(try changes(v) == ["feature|activity/spend|modified|dtype|float32|float64"])
        v = base.replacingOccurrences(of: "sum(amount)", with: "sum(amount) - refunds")
        #expect(try changes(v) == ["feature|activity/spend|modified|expression|sum(amount)|sum(amount) - refunds"])
        v = base.replacingOccurrences(of: "name: spend", with: "name: spend_total")
        #expect(try changes(v) == ["feature|activity/spend_total|renamed|name|spend|spend_total"])
        v = base.replacingOccurrences(of: "{name: old_one, dtype: bool, expression: x > 1}", with: "{name: fresh, dtype: int32, expression: y}")
        #expect(try changes(v) == ["feature|activity/fresh|added|||y", "feature|activity/old_one|removed||x > 1|"])
        v = base.replacingOccurrences(of: "source: data/events.csv", with: "source: data/events_v2.csv")
            .replacingOccurrences(of: "ttl: 7d", with: "ttl: 1d").replacingOccurrences(of: "entity: user", with: "entity: account")
        #expect(try changes(v) == ["view|activity|modified|source|data/events.csv|data/events_v2.csv",
                                   "view|activity|modified|entity|user|account", "view|activity|modified|ttl|7d|1d"])
        v = base.replacingOccurrences(of: "keys: [user_id]", with: "keys: [user_id, region]")
        #expect(try changes(v) == ["entity|user|modified|keys|user_id|user_id,region"])
    }

    @Test func malformedDefinitionsAreClearErrors() {
        #expect(throws: DiffError.self) { try FeatureSet.parse(Array("feature_views:\n  - name: x\n".utf8), path: "f.yaml") }
        #expect(throws: DiffError.self) { try FeatureSet.parse(Array("version: 2\n".utf8), path: "f.yaml") }
    }
}

@Suite struct SafetensorsTests {
    @Test func tensorsAddedRemovedReshapedAndChanged() throws {
        let a = safetensorsFile([("w", [2, 2], [1, 2, 3, 4]), ("b", [2], [0, 0]), ("gone", [1], [5])])
        let b = safetensorsFile([("w", [2, 2], [1, 2, 3, 4.5]), ("b", [3], [0, 0, 0]), ("new", [1], [1])])
        let d = try #require(try diffSafetensors(old: a, new: b, path: "m.safetensors"))
        #expect(d.parametersOld == 7 && d.parametersNew == 8)
        #expect(d.tensors.map { "\($0.name):\($0.change)" } == ["b:reshaped", "gone:removed", "new:added", "w:modified"])
        let w = d.tensors.last!
        #expect(abs(w.relativeL2! - 0.5 / (30.0).squareRoot()) < 1e-6)
        #expect(try diffSafetensors(old: a, new: a, path: "m.safetensors")?.tensors.isEmpty == true)
    }

    @Test func aBrokenHeaderIsAnError() {
        var bad = safetensorsFile([("w", [1], [1])])
        bad[8] = UInt8(ascii: "#")      // the header's opening brace
        #expect(throws: DiffError.self) { try diffSafetensors(old: bad, new: bad, path: "m.safetensors") }
    }
}

@Suite struct JSONLinesTests {
    func diff(_ a: String, _ b: String, key: [String]) throws -> TableDiff {
        try diffTables(oldName: "old.jsonl", newName: "new.jsonl", format: .jsonLines,
                       options: TableDiffOptions(key: key)) { MemoryStream(Array(($0 ? b : a).utf8)) }
    }

    @Test func keyedDiffOfJSONLines() throws {
        let a = #"{"id": 1, "name": "a", "tags": ["x"], "ok": true}"# + "\n" + #"{"id": 2, "name": "b", "tags": [], "ok": false}"# + "\n"
        let b = #"{"id": 1, "name": "a", "tags": ["x"], "ok": true}"# + "\n\n" + #"{"id": 2, "name": "B", "tags": [], "ok": null}"# + "\n" + #"{"id": 3, "name": "c", "tags": [], "ok": true}"# + "\n"
        let d = try diff(a, b, key: ["id"])
        #expect(d.rows.added == 1 && d.rows.removed == 0 && d.rows.modified == 1)
        #expect(d.modifiedRows[0].cells.map { "\($0.column):\($0.old)->\($0.new)" } == ["name:b->B", "ok:false->"])
        #expect(d.stats.map(\.column) == ["id", "name", "tags", "ok"])   // the first line's key order
        #expect(d.stats.first { $0.column == "ok" }?.new?.nulls == 1)
    }

    @Test func badLinesAndNewKeysNameTheLine() throws {
        #expect(throws: DiffError.malformed(file: "new.jsonl", line: 2, why: "not a JSON object (JSON Lines needs one object per line)")) {
            _ = try diff(#"{"id": 1}"#, "{\"id\": 1}\n[1, 2]\n", key: ["id"])
        }
        // A key first seen on a later line is a column (null where a line lacks it).
        let extra = try diff(#"{"id": 1}"#, "{\"id\": 1}\n{\"id\": 2, \"extra\": 1}\n", key: ["id"])
        #expect(extra.columns.added == ["extra"] && extra.rows.added == 1)
    }
}

@Suite struct PartitionedDiffTests {
    /// Spilling to partitions must give exactly the in-memory result: counts and samples.
    @Test func partitionedAndInMemoryAgree() throws {
        var a = "id,v,w\n", b = "id,v,w\n"
        for i in 0..<3000 {
            a += "\(i),\(i * 7 % 101),x\(i % 13)\n"
            if i % 50 == 0 { continue }                                     // removed
            if i % 37 == 0 { b += "\(i),\(i * 7 % 101 + 1),x\(i % 13)\n"; continue }   // modified
            b += "\(i),\(i * 7 % 101),x\(i % 13)\n"
        }
        b += "5,1,dup\n"                                                    // a duplicate key
        for i in 3000..<3040 { b += "\(i),1,new\n" }                        // added
        let dir = scratchDirectory("spill")
        func run(_ parts: Int) throws -> TableDiff {
            var o = TableDiffOptions(key: ["id"], rowSamples: 4)
            o.partitions = parts
            o.spillDirectory = dir
            return try diffTables(oldName: "a.csv", newName: "b.csv", separator: UInt8(ascii: ","), options: o) { MemoryStream(Array(($0 ? b : a).utf8)) }
        }
        let mem = try run(1), part = try run(5)
        for d in [mem, part] {
            // 40 new keys, and the second row of key 5 (its first is unchanged: they pair off).
            #expect(d.rows.added == 41 && d.rows.removed == 60 && d.rows.duplicateKeysNew == 1)
        }
        #expect(part.rows.modified == mem.rows.modified && part.cellsChanged == mem.cellsChanged)
        #expect(part.modifiedRows.map(\.key) == mem.modifiedRows.map(\.key))
        #expect(part.modifiedRows.map { $0.cells.map(\.new) } == mem.modifiedRows.map { $0.cells.map(\.new) })
        #expect(part.addedSample == mem.addedSample && part.removedSample == mem.removedSample)
        #expect(part.stats.map(\.new) == mem.stats.map(\.new))
    }
}

@Suite struct SniffTests {
    func sniff(_ s: String) -> String {
        Array(s.utf8).withUnsafeBytes { b in
            switch TableFormat(sniffing: b) {
            case .delimited(let c)?: return c == 0x09 ? "tsv" : "csv"
            case .jsonLines?: return "jsonl"
            case nil: return "none"
            }
        }
    }

    @Test func formatsAreRecognisedFromContent() {
        #expect(sniff("a,b\n1,2\n") == "csv")
        #expect(sniff("a\tb,c\n1\t2\n") == "tsv")
        #expect(sniff("\n {\"a\": 1}\n {\"a\": 2}\n") == "jsonl")
        // One JSON document (a model, a config) is no table, on one line or pretty-printed.
        #expect(sniff("{\"a\": 1}\n") == "none")
        #expect(sniff("{\n  \"a\": 1\n}\n") == "none")
        #expect(sniff("just text\n") == "none")
        #expect(sniff("a,b\u{0}\n") == "none")
    }
}

@Suite struct HostileTableTests {
    @Test func hugeIntegersAndManyBlankLinesDoNotTrap() throws {
        let d = try tdiff("v,w\n123456789012345678901234,a\n1,b\n", "v,w\n1,b\n" + String(repeating: "\n", count: 200_000) + "2,c\n")
        #expect(d.stats[0].old?.max != nil)
        #expect(d.rows.new == 2)                 // blank lines between rows are skipped, iteratively
    }
}

/// The package's root folder (tests read files that live next to them in the repository).
let packageRootForTests: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
