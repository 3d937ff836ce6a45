#ifndef SCMC_CRC32_H
#define SCMC_CRC32_H
#include <stddef.h>
#include <stdint.h>
/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as in PNG and zlib. Pass crc = 0 to
 * start; feed the previous result to continue over several buffers. */
uint32_t scmc_crc32(uint32_t crc, const uint8_t *data, size_t size);
#endif
