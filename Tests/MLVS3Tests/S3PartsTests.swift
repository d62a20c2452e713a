import Glibc
import Testing
@testable import MLVS3

@Suite struct S3PartsTests {
    @Test func locations() throws {
        let aws = try S3Location(url: "s3://my-bucket/team/data/", endpoint: nil, region: "eu-west-1")
        #expect(aws.bucket == "my-bucket" && aws.prefix == "team/data" && !aws.pathStyle)
        #expect(aws.target("team/data/packs/ab/x.pack").host == "my-bucket.s3.eu-west-1.amazonaws.com")
        let local = try S3Location(url: "s3://b12", endpoint: "http://127.0.0.1:5000/", region: "us-east-1")
        #expect(local.prefix == "" && local.pathStyle && local.key("index/a.idx") == "index/a.idx")
        #expect(local.target("index/a b.idx").path == "/b12/index/a%20b.idx")
        #expect(local.target("index/a b.idx").host == "127.0.0.1:5000")
        for bad in ["s3://", "s3://AB", "s3://x", "s3://bucket/../up", "http://bucket"] {
            #expect(throws: S3Error.self) { try S3Location(url: bad, endpoint: nil, region: "us-east-1") }
        }
        #expect(throws: S3Error.self) { try S3Location(url: "s3://bucket", endpoint: "127.0.0.1:9000", region: "us-east-1") }
    }

    @Test func xmlOfAListing() {
        let doc = """
        <?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>
        <Contents><Key>p/a&amp;b.pack</Key><Size>12</Size></Contents><Contents><Key>p/c</Key><Size>0</Size></Contents>
        <NextContinuationToken>t&#x2F;1</NextContinuationToken></ListBucketResult>
        """
        let items = XML.all("Contents", in: doc)
        #expect(items.count == 2)
        #expect(XML.first("Key", in: items[0]) == "p/a&b.pack")
        #expect(XML.first("Size", in: items[1]) == "0")
        #expect(XML.first("NextContinuationToken", in: doc) == "t/1")
        #expect(XML.first("Missing", in: doc) == nil)
        #expect(XML.escape("\"a\"<&>") == "&quot;a&quot;&lt;&amp;&gt;")
    }

    @Test func credentialsFromEnvironmentProfilesAndNowhere() throws {
        let dir = "/tmp/mlv-s3-creds-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o755)
        defer { _ = system("rm -rf '\(dir)'") }
        let file = "\(dir)/credentials"
        let text = "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = sd\n\n# comment\n[work]\naws_access_key_id=AKWORK\naws_secret_access_key=sw\naws_session_token = tw\n"
        let fd = open(file, O_WRONLY | O_CREAT, 0o600)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let env = try AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "se", "AWS_SHARED_CREDENTIALS_FILE": file]).credentials()
        #expect(env.accessKeyID == "AKENV" && env.source == "environment")
        let def = try AWSEnvironment(["AWS_SHARED_CREDENTIALS_FILE": file]).credentials()
        #expect(def.accessKeyID == "AKDEFAULT" && def.secretAccessKey == "sd" && def.sessionToken == nil)
        let work = try AWSEnvironment(["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "work"]).credentials()
        #expect(work.accessKeyID == "AKWORK" && work.sessionToken == "tw")
        #expect(throws: S3Error.self) { try AWSEnvironment(["HOME": dir]).credentials() }
        #expect(throws: S3Error.self) { try AWSEnvironment(["AWS_ACCESS_KEY_ID": "x"]).credentials() }
        #expect(AWSEnvironment(["AWS_DEFAULT_REGION": "ap-south-1"]).region() == "ap-south-1")
        #expect(AWSEnvironment(["HOME": dir]).region() == "us-east-1")
    }
}
