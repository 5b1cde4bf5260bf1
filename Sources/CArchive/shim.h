// libarchive from Debian's libarchive-dev: reads tar (pax, GNU, ustar) through gzip, zstd or no
// compression, with xattrs. The file-type macros are casts Swift cannot import; named here.
#include <archive.h>
#include <archive_entry.h>

static const unsigned int swiftlet_archive_type_regular = AE_IFREG;
static const unsigned int swiftlet_archive_type_directory = AE_IFDIR;
static const unsigned int swiftlet_archive_type_symlink = AE_IFLNK;
static const unsigned int swiftlet_archive_type_character = AE_IFCHR;
static const unsigned int swiftlet_archive_type_block = AE_IFBLK;
static const unsigned int swiftlet_archive_type_fifo = AE_IFIFO;
static const unsigned int swiftlet_archive_type_socket = AE_IFSOCK;
