// The exit-status contract: each error category has its documented status, and errors that
// declare no category are left to the caller (ArgumentParser's, Foundation's).
import Foundation
import Testing
@testable import MLVCommands
import MLVCore

@Suite struct ExitStatusTests {
    @Test(arguments: [
        (ErrorCategory.input, Int32(2)), (.refused, 3), (.integrity, 4), (.system, 5), (.commandFailed, 6), (.nothingToDo, 1),
    ])
    func eachCategoryHasItsDocumentedStatus(category: ErrorCategory, status: Int32) {
        #expect(ExitStatus(category).rawValue == status)
    }

    @Test func noCategoryExitsAsDifferencesOrSuccess() {
        let statuses = [ErrorCategory.input, .refused, .integrity, .system, .commandFailed].map { ExitStatus($0) }
        #expect(!statuses.contains(.success) && !statuses.contains(.differences))
        #expect(Set(statuses).count == statuses.count)
    }

    @Test func aCategorizedErrorKeepsItsMessage() throws {
        let e = MLVError.unknownRevision("nosuch")
        let (message, status) = try #require(classify(e))
        #expect(message == e.description && status == .userError)
        #expect(classify(CocoaError(.fileNoSuchFile)) == nil)
    }

    @Test func theHelpListsEveryStatusOnce() {
        let help = MLV.helpMessage()
        for s in ExitStatus.allCases { #expect(help.contains("  \(s.rawValue)  "), "status \(s.rawValue) missing from mlv --help") }
    }
}
