import Testing
@testable import MLVCore
@testable import MLVStore

@Suite struct PointerTests {
    @Test func roundTripIsDeterministic() throws {
        var p = Pointer(kind: .dataset, type: .file)
        p.snapshot = ObjectID.hash(Array("x".utf8))
        p.size = 10
        p.files = 1
        p.rows = 3
        p.columns = 2
        let text = p.encoded()
        #expect(try Pointer(parsing: Array(text.utf8), path: "a.mlv") == p)
        #expect(p.encoded() == text)
        #expect(text.hasSuffix("\n"))
    }

    @Test(arguments: [
        ("version: 1\nkind: dataset\ntype: file\nsnapshot: abc\n", 4, "snapshot must be 64 hex digits"),
        ("version: 2\nkind: dataset\ntype: file\n", 1, "pointer version 2"),
        ("version: 1\nkind: weights\ntype: file\n", 2, "unknown kind"),
        ("version: 1\nkind: dataset\ntype: file\ncolour: red\n", 4, "unknown key"),
        ("version: 1\nkind: dataset\nkind: model\ntype: file\n", 3, "duplicate key"),
        ("version: 1\nkind: dataset\ntype: file\nsize: -3\n", 4, "whole number"),
        ("hello world\n", 1, "expected `key: value`"),
        ("version: 1\nkind: dataset\n", 3, "missing `type:`"),
        ("version: 1\nkind: dataset\ntype: dir\nmode: 755\n", 4, "mode must be"),
    ])
    func badPointersNameTheLineAndTheProblem(text: String, line: Int, fragment: String) {
        do {
            _ = try Pointer(parsing: Array(text.utf8), path: "data/x.csv.mlv")
            Issue.record("parsed nonsense")
        } catch let e as MLVError {
            guard case .badPointer(let path, let l, let why) = e else { Issue.record("wrong error \(e)"); return }
            #expect(path == "data/x.csv.mlv")
            #expect(l == line)
            #expect(why.contains(fragment), "\(why)")
            #expect(!e.description.contains("\n"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func binaryGarbageIsRefused() {
        #expect(throws: MLVError.self) { try Pointer(parsing: [0xFF, 0xFE, 0x00], path: "p.mlv") }
    }

    @Test func kindsAreInferred() {
        #expect(TargetKind.infer(path: "data/train.csv", isDirectory: false) == .dataset)
        #expect(TargetKind.infer(path: "models/m.safetensors", isDirectory: false) == .model)
        #expect(TargetKind.infer(path: "features/user.features.yaml", isDirectory: false) == .features)
        #expect(TargetKind.infer(path: "metrics.json", isDirectory: false) == .metrics)
        #expect(TargetKind.infer(path: "params.yaml", isDirectory: false) == .params)
        #expect(TargetKind.infer(path: "models", isDirectory: true) == .model)
        #expect(TargetKind.infer(path: "data/images", isDirectory: true) == .dataset)
    }
}

@Suite struct PathTests {
    @Test func userPathsAreNormalizedAndConfined() throws {
        #expect(try RepoPath.fromUser("data/./x.csv", cwd: "/r", root: "/r") == "data/x.csv")
        #expect(try RepoPath.fromUser("../x.csv", cwd: "/r/data", root: "/r") == "x.csv")
        #expect(try RepoPath.fromUser("/r/a//b/", cwd: "/elsewhere", root: "/r") == "a/b")
        #expect(throws: MLVError.pathOutsideRepo("../x")) { try RepoPath.fromUser("../x", cwd: "/r", root: "/r") }
        #expect(throws: MLVError.pathOutsideRepo("/rx/y")) { try RepoPath.fromUser("/rx/y", cwd: "/r", root: "/r") }
        #expect(throws: MLVError.pathInsideMetadata(".git/config")) { try RepoPath.fromUser(".git/config", cwd: "/r", root: "/r") }
        #expect(throws: MLVError.pathInsideMetadata(".mlv/store")) { try RepoPath.fromUser(".mlv/store", cwd: "/r", root: "/r") }
        #expect(throws: MLVError.self) { try RepoPath.fromUser(".", cwd: "/r", root: "/r") }
    }

    @Test func storedPathsAreValidated() {
        for bad in ["/etc/passwd", "a/../b", "a//b", ".git/hooks/x", "a/\n/b", ""] {
            #expect(throws: MLVError.self, "\(bad.debugDescription)") { try RepoPath.validate(bad, source: bad) }
        }
    }
}

@Suite struct MergeDriverTests {
    func pointer(_ s: String) -> [UInt8] {
        var p = Pointer(kind: .dataset, type: .file)
        p.snapshot = ObjectID.hash(Array(s.utf8))
        return Array(p.encoded().utf8)
    }

    @Test func keepsTheSideThatChanged() {
        let o = pointer("o"), a = pointer("a"), b = pointer("b")
        #expect(PointerMerge.merge(base: o, ours: o, theirs: b, path: "x.mlv") == .merged(String(decoding: b, as: UTF8.self)))
        #expect(PointerMerge.merge(base: o, ours: a, theirs: o, path: "x.mlv") == .merged(String(decoding: a, as: UTF8.self)))
        #expect(PointerMerge.merge(base: o, ours: a, theirs: a, path: "x.mlv") == .merged(String(decoding: a, as: UTF8.self)))
    }

    @Test func bothChangedIsAConflictThatSaysWhatToDo() {
        guard case .conflict(let m) = PointerMerge.merge(base: pointer("o"), ours: pointer("a"), theirs: pointer("b"), path: "d/x.csv.mlv") else {
            Issue.record("expected a conflict"); return
        }
        #expect(m.contains("d/x.csv") && m.contains("git checkout --ours"))
    }

    @Test func garbageIsAConflictNotACrash() {
        guard case .conflict = PointerMerge.merge(base: pointer("o"), ours: Array("junk".utf8), theirs: pointer("b"), path: "x.mlv") else {
            Issue.record("expected a conflict"); return
        }
    }
}
