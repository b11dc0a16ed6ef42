#include "jpeg_errors.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// An error manager that remembers where to jump back to instead of calling exit().
struct returning_error_manager {
    struct jpeg_error_mgr base;
    jmp_buf return_point;
    char message[JMSG_LENGTH_MAX];
};

static void return_to_caller(j_common_ptr info) {
    struct returning_error_manager *manager = (struct returning_error_manager *)info->err;
    (*info->err->format_message)(info, manager->message);
    longjmp(manager->return_point, 1);
}

// Warnings (corrupt-data notices while decoding) are not errors for a writer: stay silent.
static void ignore_message(j_common_ptr info) { (void)info; }

// A growable memory destination that this file owns, so that an error part-way through
// can always free exactly what was allocated (jpeg_mem_dest hides its buffer until the end).
struct growable_destination {
    struct jpeg_destination_mgr base;
    unsigned char *buffer;
    size_t capacity;
};

static void start_destination(j_compress_ptr info) {
    struct growable_destination *d = (struct growable_destination *)info->dest;
    d->base.next_output_byte = d->buffer;
    d->base.free_in_buffer = d->capacity;
}

static boolean grow_destination(j_compress_ptr info) {
    struct growable_destination *d = (struct growable_destination *)info->dest;
    size_t used = d->capacity;  // libjpeg calls this only when the buffer is full
    unsigned char *grown = realloc(d->buffer, d->capacity * 2);
    if (grown == NULL) ERREXIT1(info, JERR_OUT_OF_MEMORY, 10);
    d->buffer = grown;
    d->capacity *= 2;
    d->base.next_output_byte = d->buffer + used;
    d->base.free_in_buffer = d->capacity - used;
    return TRUE;
}

static void finish_destination(j_compress_ptr info) { (void)info; }

static void copy_message(char *destination, size_t capacity, const char *source) {
    if (destination == NULL || capacity == 0) return;
    strncpy(destination, source, capacity - 1);
    destination[capacity - 1] = '\0';
}

int gmps_jpeg_compress_rgb(const uint8_t *rgb, int width, int height, int quality,
                           unsigned char **out, unsigned long *out_size,
                           char *message, size_t message_capacity) {
    *out = NULL;
    *out_size = 0;
    if (rgb == NULL || width <= 0 || height <= 0) {
        copy_message(message, message_capacity, "image is empty");
        return 1;
    }

    struct jpeg_compress_struct info;
    struct returning_error_manager errors;
    struct growable_destination destination;
    destination.capacity = (size_t)width * (size_t)height * 3 / 4 + 4096;
    destination.buffer = malloc(destination.capacity);
    if (destination.buffer == NULL) {
        copy_message(message, message_capacity, "out of memory");
        return 1;
    }
    destination.base.init_destination = start_destination;
    destination.base.empty_output_buffer = grow_destination;
    destination.base.term_destination = finish_destination;

    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = return_to_caller;
    errors.base.output_message = ignore_message;
    errors.message[0] = '\0';

    if (setjmp(errors.return_point)) {
        jpeg_destroy_compress(&info);
        free(destination.buffer);
        copy_message(message, message_capacity, errors.message);
        return 1;
    }

    jpeg_create_compress(&info);
    info.dest = &destination.base;
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)info.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);

    *out = destination.buffer;
    *out_size = (unsigned long)(destination.capacity - destination.base.free_in_buffer);
    return 0;
}

void gmps_jpeg_free(unsigned char *buffer) { free(buffer); }
