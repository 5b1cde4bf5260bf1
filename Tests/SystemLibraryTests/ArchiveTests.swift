import CArchive
import Testing

struct ArchiveTests {
    @Test func libarchiveReadsGzipAndZstd() throws {
        let reader = try #require(archive_read_new())
        defer { archive_read_free(reader) }
        #expect(archive_read_support_filter_gzip(reader) == ARCHIVE_OK)
        #expect(archive_read_support_filter_zstd(reader) == ARCHIVE_OK)
        #expect(archive_read_support_format_tar(reader) == ARCHIVE_OK)
        #expect(String(cString: archive_version_string()).hasPrefix("libarchive 3."))
    }
}
