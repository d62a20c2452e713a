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
