// `mlv diff-driver` without the binary: the core's `summarize` returns a PointerSummary read
// from a store, `DiffDriverText` lays it out for git's textconv. Each test writes small data
// into a fresh repository and derives what it expects from what it wrote.
import Foundation
import Testing
@testable import MLVCommands
@testable import MLVCore
import MLVStore
import MLVTestSupport

@Suite struct DiffDriverTextTests {
    /// A fresh repository with mlv set up, and `files` (path → content) written into it.
    static func repository(_ files: [String: String]) throws -> (Workspace, String) {
        let dir = scratchDirectory("h-commands-diffdriver")
        let (ws, _, _) = try Workspace.initialize(cwd: dir, createGit: true)
        for (path, text) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return (ws, dir)
    }

    static func commit(_ ws: Workspace, _ targets: [String]) throws {
        _ = try MLVCore.Track(ws).track(targets, kind: nil)
        _ = try MLVCore.Commit(ws).run(message: "", paths: [], noGit: true, waiting: { _ in })
    }

    @Test func aTableIsSummarizedColumnByColumn() throws {
        let csv = "id,name\n1,a\n2,b\n3,\n"
        let (ws, dir) = try Self.repository(["data/t.csv": csv])
        try Self.commit(ws, ["data/t.csv"])
        let bytes = try FS.readAll(dir + "/data/t.csv.mlv")
        let s = try Summarize(ws).run(pointerBytes: bytes, name: "data/t.csv.mlv", offline: true)

        #expect(s.unavailable == nil && s.columnsUnavailable == nil)
        #expect(s.columns.map(\.name) == ["id", "name"])
        #expect(s.columns.map(\.stats.count) == [3, 2])       // the empty cell of `name` is a null
        #expect(s.columns.map(\.stats.nulls) == [0, 1])
        #expect(s.columns.map(\.stats.distinct) == [3, 2])
        #expect(s.columns[0].stats.min == "1" && s.columns[0].stats.max == "3")

        let lines = DiffDriverText.render(s).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let id = try #require(s.pointer.snapshot)
        #expect(lines[0] == "mlv dataset (file)")
        #expect(lines[1] == "snapshot \(id.hex)")
        #expect(lines[2] == "size \(csv.utf8.count) bytes, 1 file")
        #expect(lines[3] == "3 rows x 2 columns")
        #expect(lines[4].hasPrefix("column id: ") && lines[4].hasSuffix(", 3 values, 0 nulls, 3 distinct, mean 2, range 1 .. 3"))
        #expect(lines[5].hasPrefix("column name: ") && lines[5].contains(", 2 values, 1 null, 2 distinct"))
        #expect(lines.last == "" && lines.count == 7)          // one line per fact, newline-terminated
    }

    @Test func aFolderListsItsFilesDepthFirst() throws {
        let (ws, dir) = try Self.repository(["data/imgs/a.bin": "abc", "data/imgs/sub/b.bin": "hello", "data/imgs/sub/c.bin": "x"])
        try Self.commit(ws, ["data/imgs"])
        let s = try Summarize(ws).run(pointerBytes: try FS.readAll(dir + "/data/imgs.mlv"), name: "data/imgs.mlv", offline: true)

        let files = s.entries.compactMap { e -> String? in if case .file(let p, let size, _) = e { return "\(p) \(size)" } else { return nil } }
        #expect(files == ["a.bin 3", "sub/b.bin 5", "sub/c.bin 1"])
        let text = DiffDriverText.render(s)
        #expect(text.hasPrefix("mlv dataset (dir)\n"))
        #expect(text.contains("size 9 bytes, 3 files\n"))
        #expect(text.contains("\nfile a.bin 3 bytes ") && text.contains("\nfile sub/c.bin 1 byte "))
    }

    @Test func aPointerNotCommittedYetSaysSo() throws {
        let (ws, dir) = try Self.repository(["data/t.csv": "a\n1\n"])
        _ = try MLVCore.Track(ws).track(["data/t.csv"], kind: nil)
        let s = try Summarize(ws).run(pointerBytes: try FS.readAll(dir + "/data/t.csv.mlv"), name: "data/t.csv.mlv", offline: true)
        #expect(s.pointer.snapshot == nil)
        #expect(DiffDriverText.render(s) == "mlv dataset (file)\nnot committed yet\n")
    }

    @Test func dataNotHereIsNamedInsteadOfSummarized() throws {
        let id = ObjectID.hash(Array("weights".utf8))
        var p = Pointer(kind: .model, type: .file)
        p.snapshot = id
        p.size = 2048
        p.files = 1
        var s = PointerSummary(pointer: p)
        s.unavailable = "not in this store"
        #expect(DiffDriverText.render(s) == """
            mlv model (file)
            snapshot \(id.hex)
            size 2048 bytes, 1 file
            (no content summary: not in this store)

            """)
    }
}
