/* The hardware floor for issue 16's bench: OpenSSL's EVP AES-256-GCM in a C loop, no Node. 20,000
 * values of 40 bytes over 100 keys with a 40-byte AAD, one initialised context per key, only the
 * IV set per value (what the addon does). Prints ns per value for seal and open. Built and run by
 * src/aead/floor.ts with the system's gcc and libcrypto. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define VALUES 20000
#define KEYS 100
#define LENGTH 40
#define ROUNDS 7

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static unsigned char plain[VALUES][LENGTH], sealed[VALUES][LENGTH], tags[VALUES][16], ivs[VALUES][12], opened[LENGTH];

int main(void) {
  static EVP_CIPHER_CTX *seal[KEYS], *open[KEYS];
  unsigned char key[32], aad[40];
  memset(aad, 7, sizeof aad);
  for (int k = 0; k < KEYS; k++) {
    memset(key, k + 1, sizeof key);
    seal[k] = EVP_CIPHER_CTX_new();
    open[k] = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(seal[k], EVP_aes_256_gcm(), NULL, key, NULL);
    EVP_DecryptInit_ex(open[k], EVP_aes_256_gcm(), NULL, key, NULL);
  }
  for (int i = 0; i < VALUES; i++) {
    memset(plain[i], 'a' + i % 26, LENGTH);
    memcpy(ivs[i], &i, sizeof i);
  }
  double best_seal = 1e18, best_open = 1e18;
  int failures = 0;
  for (int round = 0; round < ROUNDS; round++) {
    double started = now_ns();
    for (int i = 0; i < VALUES; i++) {
      EVP_CIPHER_CTX *c = seal[i % KEYS];
      int n = 0;
      EVP_EncryptInit_ex(c, NULL, NULL, NULL, ivs[i]);
      EVP_EncryptUpdate(c, NULL, &n, aad, sizeof aad);
      EVP_EncryptUpdate(c, sealed[i], &n, plain[i], LENGTH);
      EVP_EncryptFinal_ex(c, sealed[i] + n, &n);
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tags[i]);
    }
    double middle = now_ns();
    for (int i = 0; i < VALUES; i++) {
      EVP_CIPHER_CTX *c = open[i % KEYS];
      int n = 0;
      EVP_DecryptInit_ex(c, NULL, NULL, NULL, ivs[i]);
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tags[i]);
      EVP_DecryptUpdate(c, NULL, &n, aad, sizeof aad);
      EVP_DecryptUpdate(c, opened, &n, sealed[i], LENGTH);
      failures += EVP_DecryptFinal_ex(c, opened + n, &n) != 1;
    }
    double ended = now_ns();
    if (middle - started < best_seal) best_seal = middle - started;
    if (ended - middle < best_open) best_open = ended - middle;
  }
  printf("{\"sealNs\":%.1f,\"openNs\":%.1f,\"failures\":%d,\"openssl\":\"%s\"}\n", best_seal / VALUES, best_open / VALUES, failures, OpenSSL_version(OPENSSL_VERSION));
  return failures != 0;
}
