import Foundation
import MLVTestSupport
import Testing
@testable import MLVStore

/// Limits of the tree format (man/mlv-store.5, LIMITS), checked when a tree is decoded.
@Suite struct TreeLimitTests {
    let someID = ObjectID.hash(Array("x".utf8))

    func decode(_ entries: [TreeEntry]) throws -> Tree {
        let bytes = Tree(entries: entries).encoded()
        return try Tree(decoding: bytes, id: ObjectID.hash(bytes))
    }

    @Test func namesAreAtMost255Bytes() throws {
        let ok = String(repeating: "n", count: 255)
        #expect(try decode([TreeEntry(name: ok, kind: .file, size: 1, files: 1, id: someID)]).entries[0].name == ok)
        #expect(throws: ObjectError.self) {
            try decode([TreeEntry(name: ok + "n", kind: .file, size: 1, files: 1, id: someID)])
        }
        // 255 bytes, not 255 characters: 128 two-byte letters are 256 bytes.
        #expect(throws: ObjectError.self) {
            try decode([TreeEntry(name: String(repeating: "é", count: 128), kind: .file, size: 1, files: 1, id: someID)])
        }
        #expect(throws: ObjectError.self) { try validateName(ok + "n") }
    }

    @Test func eachKindCarriesItsOwnCounts() throws {
        // A file counts itself, a link counts no file and holds a non-empty target.
        _ = try decode([TreeEntry(name: "f", kind: .file, size: 0, files: 1, id: someID),
                        TreeEntry(name: "l", kind: .symlink, size: 3, files: 0, id: someID)])
        #expect(throws: ObjectError.self) { try decode([TreeEntry(name: "f", kind: .file, size: 0, files: 2, id: someID)]) }
        #expect(throws: ObjectError.self) { try decode([TreeEntry(name: "f", kind: .file, size: 0, files: 0, id: someID)]) }
        #expect(throws: ObjectError.self) { try decode([TreeEntry(name: "l", kind: .symlink, size: 3, files: 1, id: someID)]) }
        #expect(throws: ObjectError.self) { try decode([TreeEntry(name: "l", kind: .symlink, size: 0, files: 0, id: someID)]) }
        #expect(throws: ObjectError.self) { try decode([TreeEntry(name: "l", kind: .symlink, size: 5000, files: 0, id: someID)]) }
    }
}

/// Whole-snapshot checks (`Store.checkSnapshot`) and the iterative walker (`TreeWalker`).
@Suite struct SnapshotWalkTests {
    let leafFile = ObjectID.hash(Array("file".utf8))

    /// A chain of `levels` trees, each holding the next as "d"; the last holds one file.
    func chain(_ w: StoreWriter, levels: Int, name: String = "d") throws -> ObjectID {
        var id = try w.addObject(Tree(entries: [TreeEntry(name: "f", kind: .file, size: 3, files: 1, id: leafFile)]).encoded(), type: .tree)
        for _ in 1..<levels {
            id = try w.addObject(Tree(entries: [TreeEntry(name: name, kind: .directory, size: 3, files: 1, id: id)]).encoded(), type: .tree)
        }
        return id
    }

    func walkAll(_ store: Store, _ root: ObjectID, size: UInt64, files: UInt64) throws -> [String] {
        var w = TreeWalker(store: store, root: TreeEntry(name: "t", kind: .directory, size: size, files: files, id: root), path: "t", target: "t")
        var out: [String] = []
        while let item = try w.next() { out.append(item.path) }
        return out
    }

    func expectSnapshotError(_ mentions: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error (expected one mentioning \(mentions))", sourceLocation: sourceLocation)
        } catch let e as ObjectError {
            guard case .badSnapshot = e else { Issue.record("\(e)", sourceLocation: sourceLocation); return }
            #expect("\(e)".contains(mentions), "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func nestingUpTo256LevelsIsFineAndDeeperIsRefused() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        let ok = try chain(w, levels: TreeLimits.maxDepth)
        let deep = try chain(w, levels: TreeLimits.maxDepth + 1, name: "e")
        try w.commit()
        let facts = try store.checkSnapshot(ok, target: "t", declared: (3, 1))
        #expect(facts.depth == 256 && facts.files == 1 && facts.longestPath == 255 * 2 + 1)
        #expect(try walkAll(store, ok, size: 3, files: 1).count == 257)
        expectSnapshotError("256 levels") { try store.checkSnapshot(deep, target: "t", declared: (3, 1)) }
        expectSnapshotError("256 levels") { _ = try walkAll(store, deep, size: 3, files: 1) }
    }

    @Test func aSubtreeCheckedAloneIsStillTooDeepFurtherDown() throws {
        // The check remembers trees it has seen; one fine as a root (200 levels) must still be
        // refused 100 levels further down.
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        let sub = try chain(w, levels: 200)
        var id = sub
        for _ in 0..<100 { id = try w.addObject(Tree(entries: [TreeEntry(name: "x", kind: .directory, size: 3, files: 1, id: id)]).encoded(), type: .tree) }
        try w.commit()
        #expect(try store.checkSnapshot(sub, target: "sub", declared: (3, 1)).depth == 200)
        expectSnapshotError("256 levels") { try store.checkSnapshot(id, target: "t", declared: (3, 1)) }
    }

    @Test func aDAGBombIsCheckedAtTheCostOfItsStoreAndWalkedNoFurtherThanItsPointerSays() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        var id = try w.addObject(Tree(entries: [TreeEntry(name: "f", kind: .file, size: 1, files: 1, id: leafFile)]).encoded(), type: .tree)
        var n: UInt64 = 1
        for _ in 0..<60 {
            id = try w.addObject(Tree(entries: [TreeEntry(name: "a", kind: .directory, size: n, files: n, id: id),
                                                TreeEntry(name: "b", kind: .directory, size: n, files: n, id: id)]).encoded(), type: .tree)
            n *= 2
        }
        try w.commit()
        // 2^60 files: counted, not visited, and past the per-snapshot file limit (2^24).
        expectSnapshotError("holds 1152921504606846976 files") { try store.checkSnapshot(id, target: "t", declared: nil) }
        expectSnapshotError("more than the 16777216") { try store.checkSnapshot(id, target: "t", declared: (1, 1)) }
        expectSnapshotError("more than the 16777216") { _ = try walkAll(store, id, size: 1, files: 1) }
    }

    @Test func totalsThatOverflowAreAnErrorNotATrap() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        let big = UInt64.max - 1
        let leaf = try w.addObject(Tree(entries: [TreeEntry(name: "f", kind: .file, size: big, files: 1, id: leafFile)]).encoded(), type: .tree)
        let root = try w.addObject(Tree(entries: [TreeEntry(name: "a", kind: .directory, size: big, files: 1, id: leaf),
                                                  TreeEntry(name: "b", kind: .directory, size: big, files: 1, id: leaf)]).encoded(), type: .tree)
        try w.commit()
        expectSnapshotError("2^64") { try store.checkSnapshot(root, target: "t", declared: nil) }
        expectSnapshotError("2^64") { _ = try walkAll(store, root, size: 0, files: 0) }
    }

    @Test func theWalkIsDepthFirstInNameOrder() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        let inner = try w.addObject(Tree(entries: [TreeEntry(name: "y", kind: .file, size: 2, files: 1, id: leafFile),
                                                   TreeEntry(name: "x", kind: .file, size: 1, files: 1, id: leafFile)]).encoded(), type: .tree)
        let empty = try w.addObject(Tree(entries: []).encoded(), type: .tree)
        let root = try w.addObject(Tree(entries: [TreeEntry(name: "z", kind: .file, size: 4, files: 1, id: leafFile),
                                                  TreeEntry(name: "m", kind: .directory, size: 3, files: 2, id: inner),
                                                  TreeEntry(name: "e", kind: .directory, size: 0, files: 0, id: empty),
                                                  TreeEntry(name: "l", kind: .symlink, size: 2, files: 0, id: leafFile)]).encoded(), type: .tree)
        try w.commit()
        // Sizes count link targets too: 4 + 3 + 0 + 2.
        #expect(try walkAll(store, root, size: 9, files: 3) == ["t", "t/e", "t/l", "t/m", "t/m/x", "t/m/y", "t/z"])
        let facts = try store.checkSnapshot(root, target: "t", declared: (9, 3))
        #expect(facts.hollow == 2 && facts.depth == 2 && facts.longestPath == 3)
        expectSnapshotError("has 3 files of 10 bytes") { _ = try walkAll(store, root, size: 10, files: 3) }
    }
}
