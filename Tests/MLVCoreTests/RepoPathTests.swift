// Repository-relative paths from pointers, trees and users: what RepoPath.validate refuses.
import Testing
@testable import MLVCore

@Suite struct RepoPathTests {
    @Test(arguments: [".git/config", ".GIT/config", ".Git", ".mlv/store", ".mlv"])
    func metadataFoldersAreRefused(path: String) {
        #expect(throws: MLVError.pathInsideMetadata(path)) { try RepoPath.validate(path, source: path) }
    }

    @Test(arguments: ["", "/abs", "a//b", "a/./b", "a/../b", "a/"])
    func malformedPathsAreOutsideTheRepository(path: String) {
        #expect(throws: MLVError.pathOutsideRepo(path)) { try RepoPath.validate(path, source: path) }
    }

    @Test func ordinaryPathsPass() throws {
        for p in ["data.csv", "models/m.pt", ".mlvrc", "x/.mlv"] { try RepoPath.validate(p, source: p) }
    }
}
