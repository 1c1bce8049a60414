/*
 * The hardware floor of the bench (issue 16): AES-256-GCM through OpenSSL's EVP interface in a C
 * loop, as a batch AEAD would call it at best: one context initialised per key (100 keys), then per
 * value only the IV set, the AAD and the value passed, the tag taken (seal) or checked (open).
 * No JavaScript, no allocation per value. `openssl speed -evp aes-256-gcm` re-initialises the
 * context for every operation in OpenSSL 3.0, so it understates what the hardware does per value.
 *
 * Usage: gcm-floor <values> <value-bytes> <aad-bytes> <rounds>; prints one JSON line with the
 * median and minimum ns per value over the rounds, for seal and open.
 * Build: cc -O2 -o gcm-floor gcm-floor.c -lcrypto
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEYS 100

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: gcm-floor <values> <value-bytes> <aad-bytes> <rounds>\n");
    return 2;
  }
  int n = atoi(argv[1]), len = atoi(argv[2]), aad_len = atoi(argv[3]), rounds = atoi(argv[4]);
  if (n <= 0 || len <= 0 || aad_len < 0 || rounds <= 0) return 2;
  unsigned char *plain = malloc((size_t)n * len), *sealed = malloc((size_t)n * len), *opened = malloc((size_t)n * len);
  unsigned char *ivs = malloc((size_t)n * 12), *tags = malloc((size_t)n * 16), *aad = malloc(aad_len + 1);
  unsigned char keys[KEYS][32];
  EVP_CIPHER_CTX *enc[KEYS], *dec[KEYS];
  double *seal_ns = malloc(sizeof(double) * rounds), *open_ns = malloc(sizeof(double) * rounds);
  if (!plain || !sealed || !opened || !ivs || !tags || !aad || !seal_ns || !open_ns) return 1;
  RAND_bytes(plain, n * len);
  RAND_bytes(aad, aad_len + 1);
  RAND_bytes(ivs, n * 12);
  RAND_bytes((unsigned char *)keys, sizeof keys);
  for (int k = 0; k < KEYS; k++) {
    enc[k] = EVP_CIPHER_CTX_new();
    dec[k] = EVP_CIPHER_CTX_new();
    if (EVP_EncryptInit_ex(enc[k], EVP_aes_256_gcm(), NULL, keys[k], NULL) != 1) return 1;
    if (EVP_DecryptInit_ex(dec[k], EVP_aes_256_gcm(), NULL, keys[k], NULL) != 1) return 1;
  }
  for (int r = 0; r < rounds + 1; r++) {
    int out_len;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
      EVP_CIPHER_CTX *c = enc[i % KEYS];
      if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, ivs + 12 * i) != 1) return 1;
      if (aad_len > 0 && EVP_EncryptUpdate(c, NULL, &out_len, aad, aad_len) != 1) return 1;
      if (EVP_EncryptUpdate(c, sealed + (size_t)i * len, &out_len, plain + (size_t)i * len, len) != 1) return 1;
      if (EVP_EncryptFinal_ex(c, sealed + (size_t)i * len + out_len, &out_len) != 1) return 1;
      if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tags + 16 * i) != 1) return 1;
    }
    double t1 = now_ns();
    for (int i = 0; i < n; i++) {
      EVP_CIPHER_CTX *c = dec[i % KEYS];
      if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, ivs + 12 * i) != 1) return 1;
      if (aad_len > 0 && EVP_DecryptUpdate(c, NULL, &out_len, aad, aad_len) != 1) return 1;
      if (EVP_DecryptUpdate(c, opened + (size_t)i * len, &out_len, sealed + (size_t)i * len, len) != 1) return 1;
      if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tags + 16 * i) != 1) return 1;
      if (EVP_DecryptFinal_ex(c, opened + (size_t)i * len + out_len, &out_len) != 1) return 3; /* a tag that does not verify */
    }
    double t2 = now_ns();
    if (memcmp(plain, opened, (size_t)n * len) != 0) return 4;
    if (r > 0) { /* round 0 warms up */
      seal_ns[r - 1] = (t1 - t0) / n;
      open_ns[r - 1] = (t2 - t1) / n;
    }
  }
  qsort(seal_ns, rounds, sizeof(double), compare);
  qsort(open_ns, rounds, sizeof(double), compare);
  printf("{\"values\":%d,\"valueBytes\":%d,\"aadBytes\":%d,\"rounds\":%d,\"sealNs\":{\"median\":%.1f,\"min\":%.1f},\"openNs\":{\"median\":%.1f,\"min\":%.1f},\"openssl\":\"%s\"}\n", n, len, aad_len, rounds,
         seal_ns[rounds / 2], seal_ns[0], open_ns[rounds / 2], open_ns[0], OpenSSL_version(OPENSSL_VERSION));
  return 0;
}
