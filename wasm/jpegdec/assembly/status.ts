// Outcomes of decode(). 0 is success; NOT_HANDLED asks the caller to use another decoder (the file
// may well be valid); every other code is damage libjpeg would report as a warning or an error, and
// imgpipe refuses (the TypeScript side owns the messages: src/codecs/jpeg.ts).

export const OK: i32 = 0;
/** Arithmetic, 12-bit, CMYK, multi-scan, RGB-coded, DNL, default Huffman tables... */
export const NOT_HANDLED: i32 = 1;
/** The decoder's working memory could not be grown to the size this image needs. */
export const OUT_OF_MEMORY: i32 = 2;
/** A code in the entropy-coded data that no Huffman table defines. */
export const BAD_HUFFMAN_CODE: i32 = 3;
/** The data ends (marker or end of file) before the last MCU was decoded. */
export const PREMATURE_END: i32 = 4;
/** A restart marker is missing, out of sequence, or another marker stands in its place. */
export const BAD_RESTART: i32 = 5;
/** Bytes where a marker was expected (between segments or after an entropy-coded segment). */
export const EXTRANEOUS_DATA: i32 = 6;
/** A segment's length or fields are inconsistent (DHT, DQT, SOF, SOS, DRI). */
export const BAD_SEGMENT: i32 = 7;
/** A Huffman table whose code lengths overflow, or a DC table with a symbol above 15. */
export const BAD_HUFFMAN_TABLE: i32 = 8;
/** The file doesn't start with SOI, or its structure is out of order (no SOF before SOS, ...). */
export const BAD_STRUCTURE: i32 = 9;
/** The image data ends without an EOI marker. */
export const MISSING_EOI: i32 = 10;
/** Progressive scan parameters out of range (libjpeg's fatal "Invalid progressive parameters"). */
export const BAD_SCAN_PARAMETERS: i32 = 11;
/** A scan that doesn't follow on from the earlier ones (Ah not the previous Al, AC before DC). */
export const BAD_PROGRESSION: i32 = 12;
/** A progressive image that ends before every coefficient of every component is fully coded. */
export const INCOMPLETE_PROGRESSION: i32 = 13;
/** step() has more to do: call it again (never a final outcome). */
export const IN_PROGRESS: i32 = 14;
