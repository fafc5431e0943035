#define WEFT_VERSION "0.1.0"
