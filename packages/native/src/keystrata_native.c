// Batch AES-256-GCM over OpenSSL's EVP interface, for @keystrata/native.
//
// Links nothing: the OpenSSL symbols resolve to the copy Node itself exports, so there is one
// libcrypto in the process. No cryptography is written here: EVP does the cipher and
// EVP_DecryptFinal_ex checks the tag (OpenSSL compares it with CRYPTO_memcmp).
//
// A key handle owns 32 key bytes copied into native memory and two EVP contexts initialised with
// them (one to seal, one to open); per value only the IV is set. release() zero-fills the bytes
// with OPENSSL_cleanse, frees the contexts (OpenSSL zero-fills their key schedules) and frees the
// memory; a finalizer does the same for a handle nobody released.
//
// Batch calls take flat tables of uint32 offsets into two buffers and validate every entry
// before any value is processed; each value gets its own status, so one bad value fails only
// itself. No error message carries key bytes, plaintext or data.
#define NAPI_VERSION 8
#include <limits.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LENGTH 32
#define IV_LENGTH 12
#define TAG_LENGTH 16
#define SEAL_STRIDE 7 /* key, iv, plaintext, plaintext length, aad, aad length, output */
#define OPEN_STRIDE 8 /* key, iv, ciphertext, ciphertext length, tag, aad, aad length, output */
#define STATUS_OK 0
#define STATUS_TAG_MISMATCH 1
#define STATUS_FAILED 2
#define MAC_LENGTH 32
#define MAC_STRIDE 4 /* key, data, data length, output */

typedef struct {
  unsigned char key[KEY_LENGTH];
  EVP_CIPHER_CTX *seal;
  EVP_CIPHER_CTX *open;
} key_material;

/* What differs between an AeadKey and a MacKey: the type tag, the messages, how material is made and freed. */
typedef struct {
  const napi_type_tag *tag;
  const char *init_usage, *bad_length, *no_memory, *no_openssl, *already_holds;
  const char *release_usage, *state_usage, *expected, *released;
  void *(*create)(const unsigned char *bytes);
  void (*release)(void *material, unsigned char *read_back);
} key_kind;

/* The native side of an AeadKey or a MacKey. */
typedef struct {
  void *material; /* key_material or mac_material; NULL once released */
  const key_kind *kind;
} key_handle;

typedef struct {
  unsigned char key[KEY_LENGTH];
  EVP_MAC_CTX *mac; /* HMAC-SHA256 keyed once; EVP_MAC_init with no key resets it per value */
} mac_material;


static const napi_type_tag MAC_TAG = {0x6b65797374726174ULL, 0x686d6163206b6579ULL};

static const napi_type_tag KEY_TAG = {0x6b65797374726174ULL, 0x61656164206b6579ULL};

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

#define CALL(env, call)                                                                   \
  do {                                                                                    \
    if ((call) != napi_ok) return fail((env), "ERR_KEYSTRATA_NATIVE", "N-API call failed."); \
  } while (0)

/* Zero-fills and frees; optionally copies the key bytes as they are just before the free (test hook). */
static void release_material(void *data, unsigned char *read_back) {
  key_material *material = data;
  if (material == NULL) return;
  OPENSSL_cleanse(material->key, KEY_LENGTH);
  EVP_CIPHER_CTX_free(material->seal);
  EVP_CIPHER_CTX_free(material->open);
  material->seal = NULL;
  material->open = NULL;
  if (read_back != NULL) memcpy(read_back, material->key, KEY_LENGTH);
  OPENSSL_cleanse(material, sizeof *material);
  free(material);
}

static void finalize_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  key_handle *handle = data;
  handle->kind->release(handle->material, NULL);
  free(handle);
}

static void *new_material(const unsigned char *bytes) {
  key_material *material = calloc(1, sizeof *material);
  if (material == NULL) return NULL;
  memcpy(material->key, bytes, KEY_LENGTH);
  material->seal = EVP_CIPHER_CTX_new();
  material->open = EVP_CIPHER_CTX_new();
  if (material->seal == NULL || material->open == NULL ||
      EVP_EncryptInit_ex(material->seal, EVP_aes_256_gcm(), NULL, material->key, NULL) != 1 ||
      EVP_DecryptInit_ex(material->open, EVP_aes_256_gcm(), NULL, material->key, NULL) != 1) {
    release_material(material, NULL);
    return NULL;
  }
  return material;
}

static int get_bytes(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  napi_typedarray_type type;
  void *pointer = NULL;
  size_t count = 0;
  if (napi_get_typedarray_info(env, value, &type, &count, &pointer, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = count == 0 ? NULL : pointer;
  *length = count;
  return 1;
}

static int get_table(napi_env env, napi_value value, uint32_t **data, size_t *count) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_get_typedarray_info(env, value, &type, count, &pointer, NULL, NULL) != napi_ok || type != napi_uint32_array) return 0;
  *data = pointer;
  return 1;
}

/* The live handle of `object`, or NULL (wrong type, or released) with an exception pending. */
static key_handle *handle_of(napi_env env, napi_value object, const key_kind *kind, int must_be_live) {
  bool tagged = false;
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, object, &type) != napi_ok || type != napi_object || napi_check_object_type_tag(env, object, kind->tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, object, &data) != napi_ok) {
    napi_throw_type_error(env, "ERR_KEYSTRATA_NATIVE_KEY", kind->expected);
    return NULL;
  }
  key_handle *handle = data;
  if (must_be_live && handle->material == NULL) {
    napi_throw_error(env, "ERR_KEYSTRATA_NATIVE_KEY_RELEASED", kind->released);
    return NULL;
  }
  return handle;
}

/* init(target, bytes): copies 32 bytes into native memory owned by `target`. */
static napi_value init_handle(napi_env env, napi_callback_info info, const key_kind *kind) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  unsigned char *bytes = NULL;
  size_t length = 0;
  napi_valuetype type;
  if (argc < 2 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_object) return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", kind->init_usage);
  if (!get_bytes(env, argv[1], &bytes, &length) || length != KEY_LENGTH) return fail(env, "ERR_KEYSTRATA_NATIVE_KEY_LENGTH", kind->bad_length);
  key_handle *handle = calloc(1, sizeof *handle);
  if (handle == NULL) return fail(env, "ERR_KEYSTRATA_NATIVE_MEMORY", kind->no_memory);
  handle->kind = kind;
  handle->material = kind->create(bytes);
  if (handle->material == NULL) {
    free(handle);
    return fail(env, "ERR_KEYSTRATA_NATIVE_OPENSSL", kind->no_openssl);
  }
  if (napi_wrap(env, argv[0], handle, finalize_key, NULL, NULL) != napi_ok) {
    finalize_key(env, handle, NULL);
    return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", kind->already_holds);
  }
  CALL(env, napi_type_tag_object(env, argv[0], kind->tag));
  return NULL;
}

/* release(key[, readBack]): zero-fills and frees now; idempotent. readBack (test hook, 32 bytes) receives the key memory as it was just before the free. */
static napi_value release_handle(napi_env env, napi_callback_info info, const key_kind *kind) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", kind->release_usage);
  key_handle *handle = handle_of(env, argv[0], kind, 0);
  if (handle == NULL) return NULL;
  unsigned char *read_back = NULL;
  size_t read_back_length = 0;
  if (argc >= 2 && (!get_bytes(env, argv[1], &read_back, &read_back_length) || read_back_length != KEY_LENGTH)) {
    return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "The read-back buffer is 32 bytes.");
  }
  kind->release(handle->material, read_back);
  handle->material = NULL;
  return NULL;
}

static napi_value handle_released(napi_env env, napi_callback_info info, const key_kind *kind) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", kind->state_usage);
  key_handle *handle = handle_of(env, argv[0], kind, 0);
  if (handle == NULL) return NULL;
  napi_value result;
  CALL(env, napi_get_boolean(env, handle->material == NULL, &result));
  return result;
}

static const key_kind AEAD_KIND = {
    &KEY_TAG,
    "initKey needs an object to attach the key to.",
    "An AES-256-GCM key is exactly 32 bytes (a Uint8Array).",
    "Out of memory creating an AeadKey.",
    "OpenSSL could not initialise AES-256-GCM.",
    "initKey: the object already holds a key.",
    "releaseKey needs an AeadKey.",
    "isReleased needs an AeadKey.",
    "Expected an AeadKey made by @keystrata/native.",
    "This AeadKey was released; create a new one from the key.",
    new_material,
    release_material,
};

static napi_value init_key(napi_env env, napi_callback_info info) { return init_handle(env, info, &AEAD_KIND); }
static napi_value release_key(napi_env env, napi_callback_info info) { return release_handle(env, info, &AEAD_KIND); }
static napi_value is_released(napi_env env, napi_callback_info info) { return handle_released(env, info, &AEAD_KIND); }

typedef struct {
  key_material **keys;
  uint32_t key_count;
  uint32_t *table;
  size_t count;
  unsigned char *input;
  size_t input_length;
  unsigned char *output;
  size_t output_length;
  unsigned char *status;
} batch;

static int within(uint64_t offset, uint64_t length, size_t limit) { return offset + length <= (uint64_t)limit; }

/*
 * The elements of the keys array, read before any buffer pointer is taken: reading an element may
 * run JavaScript (a getter) that releases a key or detaches a buffer, and no JavaScript runs after
 * this until the batch is done. Returns a malloc'd array (NULL for none) or NULL with `*ok` 0 and an
 * exception pending.
 */
static napi_value *read_elements(napi_env env, napi_value array, uint32_t *count, int *ok) {
  *ok = 0;
  if (napi_get_array_length(env, array, count) != napi_ok) {
    fail(env, "ERR_KEYSTRATA_NATIVE", "N-API call failed.");
    return NULL;
  }
  napi_value *elements = *count == 0 ? NULL : malloc(sizeof(napi_value) * *count);
  if (*count != 0 && elements == NULL) {
    fail(env, "ERR_KEYSTRATA_NATIVE_MEMORY", "Out of memory.");
    return NULL;
  }
  for (uint32_t i = 0; i < *count; i++) {
    if (napi_get_element(env, array, i, &elements[i]) != napi_ok) {
      free(elements);
      fail(env, "ERR_KEYSTRATA_NATIVE", "N-API call failed.");
      return NULL;
    }
  }
  *ok = 1;
  return elements;
}

/* A private copy of the table: the output or status buffer may share its memory, and a value written there must not change an entry already validated. */
static uint32_t *copy_table(napi_env env, const uint32_t *table, size_t length) {
  uint32_t *copy = malloc(sizeof(uint32_t) * (length == 0 ? 1 : length));
  if (copy == NULL) {
    fail(env, "ERR_KEYSTRATA_NATIVE_MEMORY", "Out of memory.");
    return NULL;
  }
  if (length > 0) memcpy(copy, table, sizeof(uint32_t) * length);
  return copy;
}


static void release_mac(void *data, unsigned char *read_back) {
  mac_material *material = data;
  if (material == NULL) return;
  OPENSSL_cleanse(material->key, KEY_LENGTH);
  EVP_MAC_CTX_free(material->mac);
  material->mac = NULL;
  if (read_back != NULL) memcpy(read_back, material->key, KEY_LENGTH);
  OPENSSL_cleanse(material, sizeof *material);
  free(material);
}

static void *new_mac(const unsigned char *bytes) {
  mac_material *material = calloc(1, sizeof *material);
  if (material == NULL) return NULL;
  memcpy(material->key, bytes, KEY_LENGTH);
  EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (hmac != NULL) material->mac = EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac); /* the context holds its own reference */
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (material->mac == NULL || EVP_MAC_init(material->mac, material->key, KEY_LENGTH, params) != 1) {
    release_mac(material, NULL);
    return NULL;
  }
  return material;
}

static const key_kind MAC_KIND = {
    &MAC_TAG,
    "initMacKey needs an object to attach the key to.",
    "An HMAC-SHA256 key here is exactly 32 bytes (a Uint8Array).",
    "Out of memory creating a MacKey.",
    "OpenSSL could not initialise HMAC-SHA256.",
    "initMacKey: the object already holds a key.",
    "releaseMacKey needs a MacKey.",
    "isMacReleased needs a MacKey.",
    "Expected a MacKey made by @keystrata/native.",
    "This MacKey was released; create a new one from the key.",
    new_mac,
    release_mac,
};

static napi_value init_mac_key(napi_env env, napi_callback_info info) { return init_handle(env, info, &MAC_KIND); }
static napi_value release_mac_key(napi_env env, napi_callback_info info) { return release_handle(env, info, &MAC_KIND); }
static napi_value is_mac_released(napi_env env, napi_callback_info info) { return handle_released(env, info, &MAC_KIND); }

/* hmacBatch(keys, table, input, output, status): per entry, output[out..out+32) = HMAC-SHA256(key, input[data..data+len)). Returns the number of failed entries. */
static napi_value hmac_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  bool is_array = false;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "Expected (keys, table, input, output, status).");
  /* Elements first (a getter may run JavaScript), then the buffers, then the handles: see read_elements. */
  uint32_t key_count = 0;
  int elements_ok = 0;
  napi_value *elements = read_elements(env, argv[0], &key_count, &elements_ok);
  if (!elements_ok) return NULL;
  uint32_t *shared_table = NULL;
  size_t table_length = 0, input_length = 0, output_length = 0, status_length = 0;
  unsigned char *input = NULL, *output = NULL, *status = NULL;
  if (!get_table(env, argv[1], &shared_table, &table_length) || table_length % MAC_STRIDE != 0) {
    free(elements);
    return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "The table is a Uint32Array of whole entries.");
  }
  size_t count = table_length / MAC_STRIDE;
  if (!get_bytes(env, argv[2], &input, &input_length) || !get_bytes(env, argv[3], &output, &output_length) || !get_bytes(env, argv[4], &status, &status_length)) {
    free(elements);
    return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "input, output and status are Uint8Arrays.");
  }
  if (status_length < count) {
    free(elements);
    return fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "The status array is shorter than the batch.");
  }
  uint32_t *table = copy_table(env, shared_table, table_length);
  if (table == NULL) {
    free(elements);
    return NULL;
  }
  mac_material **keys = key_count == 0 ? NULL : malloc(sizeof(mac_material *) * key_count);
  if (key_count != 0 && keys == NULL) {
    free(elements);
    free(table);
    return fail(env, "ERR_KEYSTRATA_NATIVE_MEMORY", "Out of memory.");
  }
  for (uint32_t i = 0; i < key_count; i++) {
    key_handle *handle = handle_of(env, elements[i], &MAC_KIND, 1);
    if (handle == NULL) {
      free(elements);
      free(keys);
      free(table);
      return NULL;
    }
    keys[i] = handle->material;
  }
  free(elements);
  for (size_t i = 0; i < count; i++) {
    const uint32_t *e = table + i * MAC_STRIDE;
    if (e[0] >= key_count || !within(e[1], e[2], input_length) || !within(e[3], MAC_LENGTH, output_length)) {
      free(keys);
      free(table);
      return fail(env, "ERR_KEYSTRATA_NATIVE_RANGE", "A batch entry points outside its buffers (offsets, lengths or key index); nothing was processed.");
    }
  }
  uint32_t failed = 0;
  for (size_t i = 0; i < count; i++) {
    const uint32_t *e = table + i * MAC_STRIDE;
    EVP_MAC_CTX *ctx = keys[e[0]]->mac;
    size_t written = 0;
    int ok = EVP_MAC_init(ctx, NULL, 0, NULL) == 1 && (e[2] == 0 || EVP_MAC_update(ctx, input + e[1], e[2]) == 1) && EVP_MAC_final(ctx, output + e[3], &written, MAC_LENGTH) == 1 && written == MAC_LENGTH;
    status[i] = ok ? STATUS_OK : STATUS_FAILED;
    if (!ok) {
      OPENSSL_cleanse(output + e[3], MAC_LENGTH);
      failed++;
    }
  }
  free(keys);
  free(table);
  napi_value result;
  CALL(env, napi_create_uint32(env, failed, &result));
  return result;
}

/* Reads and validates (keys, table, input, output, status): 1, or 0 with an exception pending. */
static int read_batch(napi_env env, napi_callback_info info, size_t stride, batch *out) {
  size_t argc = 5;
  napi_value argv[5];
  bool is_array = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "Expected (keys, table, input, output, status).");
    return 0;
  }
  int ok = 0;
  napi_value *elements = read_elements(env, argv[0], &out->key_count, &ok);
  if (!ok) return 0;
  size_t table_length = 0, status_length = 0;
  uint32_t *table = NULL;
  if (!get_table(env, argv[1], &table, &table_length) || table_length % stride != 0) {
    free(elements);
    fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "The table is a Uint32Array of whole entries.");
    return 0;
  }
  out->count = table_length / stride;
  if (!get_bytes(env, argv[2], &out->input, &out->input_length) || !get_bytes(env, argv[3], &out->output, &out->output_length) || !get_bytes(env, argv[4], &out->status, &status_length)) {
    free(elements);
    fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "input, output and status are Uint8Arrays.");
    return 0;
  }
  if (status_length < out->count) {
    free(elements);
    fail(env, "ERR_KEYSTRATA_NATIVE_ARGUMENT", "The status array is shorter than the batch.");
    return 0;
  }
  out->keys = out->key_count == 0 ? NULL : malloc(sizeof(key_material *) * out->key_count);
  out->table = copy_table(env, table, table_length);
  if ((out->key_count != 0 && out->keys == NULL) || out->table == NULL) {
    int table_failed = out->table == NULL; /* copy_table threw already */
    free(elements);
    free(out->keys);
    free(out->table);
    out->keys = NULL;
    out->table = NULL;
    if (!table_failed) fail(env, "ERR_KEYSTRATA_NATIVE_MEMORY", "Out of memory.");
    return 0;
  }
  for (uint32_t i = 0; i < out->key_count; i++) {
    key_handle *handle = handle_of(env, elements[i], &AEAD_KIND, 1);
    if (handle == NULL) {
      free(elements);
      free(out->keys);
      free(out->table);
      out->keys = NULL;
      out->table = NULL;
      return 0;
    }
    out->keys[i] = handle->material;
  }
  free(elements);
  return 1;
}

static napi_value invalid_entry(napi_env env, batch *b) {
  free(b->keys);
  free(b->table);
  return fail(env, "ERR_KEYSTRATA_NATIVE_RANGE", "A batch entry points outside its buffers (offsets, lengths or key index); nothing was processed.");
}

static napi_value count_failures(napi_env env, batch *b) {
  uint32_t failed = 0;
  for (size_t i = 0; i < b->count; i++) failed += b->status[i] != STATUS_OK;
  free(b->keys);
  free(b->table);
  napi_value result;
  CALL(env, napi_create_uint32(env, failed, &result));
  return result;
}

static int seal_one(EVP_CIPHER_CTX *ctx, const unsigned char *iv, const unsigned char *plaintext, int length, const unsigned char *aad, int aad_length, unsigned char *out) {
  int written = 0, last = 0;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1) return STATUS_FAILED;
  if (aad_length > 0 && EVP_EncryptUpdate(ctx, NULL, &written, aad, aad_length) != 1) return STATUS_FAILED;
  written = 0;
  if (length > 0 && EVP_EncryptUpdate(ctx, out, &written, plaintext, length) != 1) return STATUS_FAILED;
  if (EVP_EncryptFinal_ex(ctx, out + written, &last) != 1 || written + last != length) return STATUS_FAILED;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, out + length) != 1) return STATUS_FAILED;
  return STATUS_OK;
}

/* sealBatch(keys, table, input, output, status): per entry, output[out..out+len) = ciphertext, then the 16-byte tag. Returns the number of failed entries. */
static napi_value seal_batch(napi_env env, napi_callback_info info) {
  batch b = {0};
  if (!read_batch(env, info, SEAL_STRIDE, &b)) return NULL;
  for (size_t i = 0; i < b.count; i++) {
    const uint32_t *e = b.table + i * SEAL_STRIDE;
    if (e[0] >= b.key_count || !within(e[1], IV_LENGTH, b.input_length) || e[3] > INT_MAX - TAG_LENGTH || !within(e[2], e[3], b.input_length) || e[5] > INT_MAX ||
        !within(e[4], e[5], b.input_length) || !within(e[6], (uint64_t)e[3] + TAG_LENGTH, b.output_length)) {
      return invalid_entry(env, &b);
    }
  }
  for (size_t i = 0; i < b.count; i++) {
    const uint32_t *e = b.table + i * SEAL_STRIDE;
    unsigned char *out = b.output + e[6];
    b.status[i] = (unsigned char)seal_one(b.keys[e[0]]->seal, b.input + e[1], b.input + e[2], (int)e[3], b.input + e[4], (int)e[5], out);
    if (b.status[i] != STATUS_OK) OPENSSL_cleanse(out, (size_t)e[3] + TAG_LENGTH);
  }
  return count_failures(env, &b);
}

static int open_one(EVP_CIPHER_CTX *ctx, const unsigned char *iv, const unsigned char *ciphertext, int length, const unsigned char *tag, const unsigned char *aad, int aad_length, unsigned char *out) {
  int written = 0, last = 0;
  unsigned char expected[TAG_LENGTH];
  memcpy(expected, tag, TAG_LENGTH);
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1) return STATUS_FAILED;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LENGTH, expected) != 1) return STATUS_FAILED;
  if (aad_length > 0 && EVP_DecryptUpdate(ctx, NULL, &written, aad, aad_length) != 1) return STATUS_FAILED;
  written = 0;
  if (length > 0 && EVP_DecryptUpdate(ctx, out, &written, ciphertext, length) != 1) return STATUS_FAILED;
  /* The tag check: EVP_DecryptFinal_ex compares the computed tag with `expected` in constant time. */
  if (EVP_DecryptFinal_ex(ctx, out + written, &last) != 1) return STATUS_TAG_MISMATCH;
  return written + last == length ? STATUS_OK : STATUS_FAILED;
}

/* openBatch(keys, table, input, output, status): per entry, output[out..out+len) = plaintext, written only for a verified tag (else zero-filled). Returns the number of failed entries. */
static napi_value open_batch(napi_env env, napi_callback_info info) {
  batch b = {0};
  if (!read_batch(env, info, OPEN_STRIDE, &b)) return NULL;
  for (size_t i = 0; i < b.count; i++) {
    const uint32_t *e = b.table + i * OPEN_STRIDE;
    if (e[0] >= b.key_count || !within(e[1], IV_LENGTH, b.input_length) || e[3] > INT_MAX || !within(e[2], e[3], b.input_length) || !within(e[4], TAG_LENGTH, b.input_length) ||
        e[6] > INT_MAX || !within(e[5], e[6], b.input_length) || !within(e[7], e[3], b.output_length)) {
      return invalid_entry(env, &b);
    }
  }
  for (size_t i = 0; i < b.count; i++) {
    const uint32_t *e = b.table + i * OPEN_STRIDE;
    unsigned char *out = b.output + e[7];
    b.status[i] = (unsigned char)open_one(b.keys[e[0]]->open, b.input + e[1], b.input + e[2], (int)e[3], b.input + e[4], b.input + e[5], (int)e[6], out);
    if (b.status[i] != STATUS_OK && e[3] > 0) OPENSSL_cleanse(out, e[3]);
  }
  return count_failures(env, &b);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"initKey", NULL, init_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseKey", NULL, release_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isReleased", NULL, is_released, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sealBatch", NULL, seal_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openBatch", NULL, open_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"initMacKey", NULL, init_mac_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseMacKey", NULL, release_mac_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isMacReleased", NULL, is_mac_released, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hmacBatch", NULL, hmac_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
